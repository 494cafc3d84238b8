import { signCssCallback, signImCallback, signTrtcCallback } from "../../shared/signatures/index.js";
import { nowSeconds as now, type EmulatedStream, type EmulatorContext, type EmulatorState, type Forgery, type Json } from "./types.js";

/** POST a platform callback to onair; the reply as JSON when it is JSON, status 0 when unreachable. */
async function postCallback(url: string, headers: Record<string, string>, body: string, timeoutMs: number): Promise<{ status: number; reply: unknown }> {
  const response = await fetch(url, { method: "POST", headers, body, signal: AbortSignal.timeout(timeoutMs) }).catch((error: Error) => ({
    status: 0,
    text: async () => error.message,
  }));
  const text = await response.text();
  try {
    return { status: response.status, reply: JSON.parse(text) as unknown };
  } catch {
    return { status: response.status, reply: text };
  }
}

/**
 * The platform's side of callbacks: IM's third-party callbacks and the CSS, TRTC and VOD events,
 * each signed as that platform signs it (or forged, to test onair's checks).
 */
export function createCallbacks(ctx: EmulatorContext) {
  const { options, state } = ctx;

  /** POST an IM callback to onair as IM does: query parameters, Sign/RequestTime, JSON body. */
  async function fireImCallback(command: string, body: Json, forge?: Forgery, timeoutMs = 2000): Promise<{ status: number; reply: unknown }> {
    if (!options.imCallback) throw new Error("no IM callback URL configured");
    const requestTime = now() - (forge === "expired" ? 3600 : 0);
    const signature = signImCallback(forge === "sign" ? "not-the-token" : options.imCallback.token, requestTime);
    const query = new URLSearchParams({
      SdkAppid: String(forge === "sdkappid" ? options.sdkAppId + 1 : options.sdkAppId),
      CallbackCommand: command,
      contenttype: "json",
      ClientIP: "203.0.113.9",
      OptPlatform: "RESTAPI",
      ...(forge === "unsigned" ? {} : signature),
    });
    // IM gives a callback 2 seconds.
    return postCallback(`${options.imCallback.url}?${query}`, { "content-type": "application/json" }, JSON.stringify({ CallbackCommand: command, EventTime: Date.now(), ...body }), timeoutMs);
  }

  /** POST a CSS, TRTC or VOD event to onair, signed as that platform signs it (or forged). */
  async function fireLiveCallback(kind: "live" | "trtc" | "vod", event: Json, forge?: Forgery): Promise<{ status: number; reply: unknown }> {
    const target = options.liveCallbacks;
    if (!target) throw new Error("no live callback URL configured");
    let url = `${target.baseUrl}/v1/callbacks/${kind}`;
    let body: string;
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (kind === "live") {
      const t = forge === "expired" ? now() - 1 : now() + 600;
      body = JSON.stringify({ ...event, ...(forge === "unsigned" ? {} : { t, sign: signCssCallback(forge === "sign" ? "not-the-key" : target.cssKey, t) }) });
    } else if (kind === "trtc") {
      body = JSON.stringify(event);
      headers["sdkappid"] = String(options.sdkAppId);
      if (forge !== "unsigned") headers["sign"] = signTrtcCallback(forge === "sign" ? "notTheKey" : target.trtcKey, body);
    } else {
      body = JSON.stringify(event);
      if (forge !== "unsigned") url += `?token=${encodeURIComponent(forge === "sign" ? "not-the-token" : target.vodToken)}`;
    }
    // CSS waits 20 s for an answer.
    return postCallback(url, headers, body, 20_000);
  }

  /** Put a file in the emulated VOD, as `DescribeMediaInfos` will report it. */
  function addMedia(fileId: string, durationSeconds: number, sizeBytes: number) {
    const media = { fileId, durationSeconds, sizeBytes, url: `https://1250000000.vod2.myqcloud.com/emulated/${fileId}/f0.mp4`, createTime: new Date().toISOString().replace(/\.\d+Z$/, "Z") };
    state.media.push(media);
    return media;
  }

  /**
   * What follows a stopped recording on the platform: TRTC reports the recorder's exit (302,
   * stopped by the API), VOD stores the file and reports its upload. So the local stack's
   * replays fill in as a deployment's do.
   */
  async function uploadRecording(task: EmulatorState["recordings"][number]) {
    if (!options.liveCallbacks) return;
    const durationSeconds = Math.max(1, Math.round((Date.now() - task.startedAt) / 1000));
    const media = addMedia(`emu-${task.taskId}`, durationSeconds, durationSeconds * 200_000);
    const vod = (task.params as { StorageParams?: { CloudVod?: { TencentVod?: { SourceContext?: string } } } }).StorageParams?.CloudVod?.TencentVod;
    await fireLiveCallback("trtc", {
      EventGroupId: 3,
      EventType: 302,
      CallbackTs: Date.now(),
      EventInfo: { RoomId: task.roomId, EventTs: now(), UserId: task.userId, TaskId: task.taskId, Payload: { LeaveCode: 0 } },
    });
    await fireLiveCallback("vod", {
      EventType: "NewFileUpload",
      FileUploadEvent: {
        FileId: media.fileId,
        MediaBasicInfo: {
          Name: media.fileId,
          CreateTime: media.createTime,
          MediaUrl: media.url,
          Type: "mp4",
          SourceInfo: { SourceType: "Record", SourceContext: vod?.SourceContext ?? "", TrtcRecordInfo: { SdkAppId: options.sdkAppId, RoomId: task.roomId, TaskId: task.taskId, UserIds: [] } },
        },
        MetaData: { Size: media.sizeBytes, Duration: media.durationSeconds, Container: "mp4" },
      },
    });
  }

  /** CSS stream begin (1) / end (0) event for a stream the emulator starts or stops. */
  const streamEvent = (stream: EmulatedStream, eventType: 0 | 1) => ({
    event_type: eventType,
    appid: 1250000000,
    app: stream.domainName,
    appname: stream.appName,
    stream_id: stream.streamName,
    channel_id: stream.streamName,
    event_time: now(),
    sequence: String(Date.now()),
    push_duration: "0",
    errcode: 0,
    errmsg: "ok",
  });

  return { fireImCallback, fireLiveCallback, addMedia, uploadRecording, streamEvent };
}

export type Callbacks = ReturnType<typeof createCallbacks>;
