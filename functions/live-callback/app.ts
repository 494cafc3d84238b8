import * as z from "zod/mini";
import type { Config } from "../../shared/config/index.js";
import type { Db } from "../../shared/db/index.js";
import { BadRequestError, UnauthorizedError, UpstreamError } from "../../shared/errors/index.js";
import { createApp, createRoute, errorResponses, jsonResponse, noSecurity } from "../../shared/http/index.js";
import type { Logger } from "../../shared/log/index.js";
import { ReplayStore, type Segment } from "../../shared/recordings/index.js";
import { RoomService, RoomStore, type Room } from "../../shared/rooms/index.js";
import { secretsEqual, verifyCssCallback, verifyTrtcCallback } from "../../shared/signatures/index.js";
import type { TencentDeps } from "../../shared/tencent/index.js";
import type { MediaFacts, VodMedia } from "../../shared/tencent/vod.js";
import { lazy } from "../../shared/lazy/index.js";

type Body = Record<string, unknown>;
const Ack = lazy(() => z.object({ code: z.literal(0) }).check(z.meta({ id: "PlatformAck" })));
const ack = { code: 0 as const };

/** A platform event's body, checked by hand after its signature: the schema documents and never validates. */
type Property = { type: "string" | "integer" | "object"; additionalProperties?: boolean };
const eventBody = (description: string, properties: Record<string, Property>, example: Record<string, unknown>) => ({
  required: true as const,
  content: { "application/json": { schema: { type: "object" as const, description, properties, additionalProperties: true }, example } },
});
const acknowledged = lazy(() => jsonResponse("Acknowledged (also for events onair does not use)", Ack(), ack));
const string = { type: "string" as const };
const integer = { type: "integer" as const };
const eventErrors = ["invalid_callback_signature", "invalid_json", "invalid_request", "payload_too_large", "store_unavailable"] as const;

const routes = {
  live: createRoute({
    method: "post",
    path: "/v1/callbacks/live",
    operationId: "cssCallback",
    summary: "CSS events: stream begin (1) / end (0), recording file (100), moderation (317)",
    description: "Authenticated by the body's `sign` = md5(CSS_CALLBACK_KEY + t), refused once `t` (Unix seconds) has passed.",
    security: noSecurity,
    request: () => ({
      body: eventBody(
        "A CSS event",
        { event_type: integer, stream_id: string, t: integer, sign: string, event_time: integer, file_id: string, duration: integer, end_time: integer, suggestion: string },
        { event_type: 1, stream_id: "1400000000_100001_alice_main", event_time: 1795629600, t: 1795630200, sign: "5f4dcc3b5aa765d61d8327deb882cf99" },
      ),
    }),
    responses: () => ({ 200: acknowledged(), ...errorResponses(...eventErrors) }),
  }),
  trtc: createRoute({
    method: "post",
    path: "/v1/callbacks/trtc",
    operationId: "trtcCallback",
    summary: "TRTC room and cloud-recording events",
    description: "Authenticated by the header `Sign` = base64 HMAC-SHA256(TRTC_CALLBACK_KEY, raw body).",
    security: noSecurity,
    request: () => ({
      body: eventBody(
        "A TRTC event",
        { EventGroupId: integer, EventType: integer, CallbackTs: integer, EventInfo: { type: "object", additionalProperties: true } },
        { EventGroupId: 3, EventType: 302, CallbackTs: 1795629600123, EventInfo: { RoomId: 100001, EventTs: 1795629600, UserId: "onair_recorder_100001", TaskId: "task-1", Payload: { LeaveCode: 0 } } },
      ),
    }),
    responses: () => ({ 200: acknowledged(), ...errorResponses(...eventErrors) }),
  }),
  vod: createRoute({
    method: "post",
    path: "/v1/callbacks/vod",
    operationId: "vodCallback",
    summary: "VOD event notification (NewFileUpload)",
    description: "VOD does not sign normal callbacks: the URL carries `?token=VOD_CALLBACK_TOKEN`. 502 while VOD cannot describe a file, so VOD delivers the event again.",
    security: noSecurity,
    request: () => ({
      query: z.object({ token: z.optional(z.string()).check(z.meta({ description: "VOD_CALLBACK_TOKEN" })) }),
      body: eventBody(
        "A VOD event",
        { EventType: string, FileUploadEvent: { type: "object", additionalProperties: true } },
        {
          EventType: "NewFileUpload",
          FileUploadEvent: {
            FileId: "5285890799999999999",
            MediaBasicInfo: { CreateTime: "2026-11-25T18:30:05Z", MediaUrl: "https://1250000000.vod2.myqcloud.com/f0.mp4", SourceInfo: { SourceContext: "room=100001" } },
            MetaData: { Duration: 1800, Size: 360000000 },
          },
        },
      ),
    }),
    responses: () => ({ 200: acknowledged(), ...errorResponses(...eventErrors, "upstream_unavailable") }),
  }),
};

function parseObject(raw: string): Body {
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    throw new BadRequestError("invalid_json", "callback body is not valid JSON");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw new BadRequestError("invalid_json", "callback body must be a JSON object");
  return body as Body;
}

const num = (value: unknown): number | undefined => {
  const n = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  return typeof n === "number" && Number.isFinite(n) ? n : undefined;
};
const text = (value: unknown): string | undefined => (typeof value === "string" && value !== "" ? value : undefined);
const inRange = (value: unknown, min: number, max: number) => {
  const n = num(value);
  return n !== undefined && n >= min && n <= max ? n : undefined;
};
/** Unix seconds an event may carry (2001 to 2286); anything else is a malformed event, not a time. */
const unixSeconds = (value: unknown) => inRange(value, 1e9, 1e10);
/** A recorded file's length: TRTC cuts files at 24 h at most; a week bounds every platform. */
const fileSeconds = (value: unknown) => inRange(value, 0, 7 * 86_400);
/** A file size in bytes, or 0 when the platform sent none that makes sense (it is informational). */
const byteCount = (value: unknown) => Math.round(inRange(value, 0, Number.MAX_SAFE_INTEGER) ?? 0);

export interface LiveCallbackDeps {
  db: Db;
  config: Config;
  tencent: TencentDeps;
  vod: VodMedia;
}

/**
 * The live-callback function: CSS, TRTC and VOD events. Each is authenticated as its platform
 * signs it before anything is read or written, is idempotent (the platforms retry), and
 * acknowledges what it does not handle.
 */
export function createLiveCallbackApp(deps: LiveCallbackDeps) {
  const app = createApp({ service: "live-callback" });
  const rooms = (log: Logger) => new RoomService({ store: new RoomStore(deps.db), tencent: deps.tencent, config: deps.config, log });
  const replays = new ReplayStore(deps.db);

  const addSegment = async (log: Logger, room: Room | undefined, segment: Omit<Segment, "roomId">) => {
    if (!room) return log.info("recording of an unknown room ignored", { fileId: segment.fileId });
    const stored = await replays.addSegment({ ...segment, roomId: room.roomId }, room);
    log.info(stored ? "replay segment stored" : "replay segment already stored", { roomId: room.roomId, fileId: segment.fileId });
  };

  app.openapi(routes.live, async (c) => {
    const body = parseObject(await c.req.text());
    // CSS puts its credentials in the body: check them before acting on any other field.
    const verdict = verifyCssCallback(body, deps.config.cssCallbackKey);
    if (!verdict.ok) throw new UnauthorizedError("invalid_callback_signature", `CSS callback rejected: ${verdict.reason}`);
    const log = c.var.log;
    const eventType = num(body.event_type);
    const streamId = text(body.stream_id) ?? text(body.streamId) ?? text(body.channel_id) ?? "";
    if (eventType === 1 || eventType === 0) {
      const eventTime = body.event_time === undefined ? Math.floor(Date.now() / 1000) : unixSeconds(body.event_time);
      if (eventTime === undefined) throw new BadRequestError("invalid_request", "event_time must be Unix seconds");
      const at = eventTime * 1000;
      const outcome = await rooms(log).streamEvent(streamId, eventType === 1, at);
      log.info("stream event", { streamId, active: eventType === 1, outcome });
    } else if (eventType === 100) {
      const fileId = text(body.file_id);
      const endTime = unixSeconds(body.end_time);
      const duration = fileSeconds(body.duration);
      if (!fileId || endTime === undefined || duration === undefined) {
        throw new BadRequestError("invalid_request", "recording event needs file_id, end_time in Unix seconds and a duration of 0 to 604800 seconds");
      }
      await addSegment(log, await rooms(log).roomOfStream(streamId), {
        fileId,
        url: text(body.video_url) ?? "",
        startAt: (unixSeconds(body.start_time) ?? endTime - duration) * 1000,
        endAt: endTime * 1000,
        // Whole seconds, as the VOD path stores them: DynamoDB refuses numbers below 1e-130 (a fuzzed 5e-324 was a 500).
        durationSeconds: Math.round(duration),
        sizeBytes: byteCount(body.file_size),
        source: "css",
      });
    } else if (eventType === 317) {
      // The host's and on-mic co-hosts' streams are the show; any other publisher's is not.
      const room = await rooms(log).roomShowing(streamId);
      if (body.suggestion === "Block" && room && room.status !== "closed") {
        const closed = await rooms(log).close(room.roomId, { reason: "moderation", flaggedStream: streamId });
        log.warn("room closed by content moderation", { roomId: room.roomId, streamId, label: body.label, pendingEffects: closed?.pendingEffects });
      } else if (body.suggestion === "Block") {
        const outcome = await rooms(log).forbidStrayStream(streamId);
        log.warn("moderation block on a stream that is not the show's", { streamId, label: body.label, outcome });
      } else {
        log.info("moderation event", { streamId, suggestion: body.suggestion, label: body.label });
      }
    } else {
      log.info("CSS event acknowledged without action", { eventType });
    }
    return c.json(ack, 200);
  });

  app.openapi(routes.trtc, async (c) => {
    const raw = await c.req.text();
    const verdict = verifyTrtcCallback(raw, c.req.header("sign"), deps.config.trtcCallbackKey);
    if (!verdict.ok) throw new UnauthorizedError("invalid_callback_signature", `TRTC callback rejected: ${verdict.reason}`);
    const body = parseObject(raw);
    const info = (body.EventInfo ?? {}) as Body;
    const payload = (info.Payload ?? {}) as Body;
    const log = c.var.log;
    // Files reach the catalog from VOD's upload event, which carries duration and size; the
    // other recording events are logged for operators.
    log.info("TRTC event", { group: body.EventGroupId, type: body.EventType, roomId: info.RoomId, taskId: info.TaskId, status: payload.Status, leaveCode: payload.LeaveCode });
    const leaveCode = num(payload.LeaveCode);
    const roomId = num(info.RoomId);
    const taskId = text(info.TaskId);
    // 302: the recorder exited. 0 (stopped by the API) and 2 (room dismissed by us) are onair's
    // own close; any other reason while the room is live loses the rest of the replay.
    if (num(body.EventGroupId) === 3 && num(body.EventType) === 302 && leaveCode !== 0 && leaveCode !== 2 && roomId !== undefined && taskId) {
      const outcome = await rooms(log).restartRecording(roomId, taskId);
      if (outcome === "restarted") log.warn("recording exited while the room is live; restarted", { roomId, taskId, leaveCode });
    }
    return c.json(ack, 200);
  });

  app.openapi(routes.vod, async (c) => {
    if (!secretsEqual(c.req.valid("query").token, deps.config.vodCallbackToken)) {
      throw new UnauthorizedError("invalid_callback_signature", "VOD callback rejected: token does not match");
    }
    const body = parseObject(await c.req.text());
    const log = c.var.log;
    if (body.EventType !== "NewFileUpload") {
      log.info("VOD event acknowledged without action", { eventType: body.EventType });
      return c.json(ack, 200);
    }
    const event = (body.FileUploadEvent ?? {}) as Body;
    const media = (event.MediaBasicInfo ?? {}) as Body;
    const source = (media.SourceInfo ?? {}) as Body;
    const meta = (event.MetaData ?? {}) as Body;
    const trtc = (source.TrtcRecordInfo ?? {}) as Body;
    const roomId = num(trtc.RoomId) ?? num(/(?:^|&)room=(\d+)/.exec(String(source.SourceContext ?? ""))?.[1]);
    const fileId = text(event.FileId);
    if (!fileId) throw new BadRequestError("invalid_request", "NewFileUpload needs FileUploadEvent.FileId");
    const room = roomId === undefined ? undefined : await new RoomStore(deps.db).getRoom(roomId);
    if (!room) {
      log.info("recording of an unknown room ignored", { fileId });
      return c.json(ack, 200);
    }
    const durationGiven = meta.Duration !== undefined && meta.Duration !== null;
    if (durationGiven && fileSeconds(meta.Duration) === undefined) {
      throw new BadRequestError("invalid_request", "MetaData.Duration must be 0 to 604800 seconds");
    }
    const created = Date.parse(String(media.CreateTime ?? ""));
    let facts: MediaFacts = {
      durationSeconds: Math.round(fileSeconds(meta.Duration) ?? 0),
      sizeBytes: byteCount(meta.Size),
      url: text(media.MediaUrl),
      createdAt: unixSeconds(created / 1000) === undefined ? undefined : created,
    };
    // MetaData may be null (reference §7): ask VOD, or fail so VOD delivers the event again;
    // a segment is stored once, so it must not be stored without its duration.
    if (!durationGiven) {
      const described = await deps.vod.describe(fileId).catch((error: unknown) => {
        throw new UpstreamError(`VOD could not describe file ${fileId}; deliver the event again`, error);
      });
      if (!described) {
        log.warn("VOD upload event for a file VOD does not have; ignored", { fileId, roomId });
        return c.json(ack, 200);
      }
      facts = { ...described, url: described.url ?? facts.url, createdAt: described.createdAt ?? facts.createdAt };
    }
    const endAt = facts.createdAt ?? Date.now();
    await addSegment(log, room, { fileId, url: facts.url ?? "", startAt: endAt - facts.durationSeconds * 1000, endAt, durationSeconds: facts.durationSeconds, sizeBytes: facts.sizeBytes, source: "vod" });
    return c.json(ack, 200);
  });

  return app;
}
