import { createRoute, z, type RouteConfig } from "@hono/zod-openapi";
import { requireAdminKey, requireUser, UserIdSchema } from "../../shared/auth/index.js";
import type { Config } from "../../shared/config/index.js";
import type { Db } from "../../shared/db/index.js";
import type { Logger } from "../../shared/log/index.js";
import { BadRequestError, ConflictError, NotFoundError } from "../../shared/errors/index.js";
import { listDeadEntries, retryDeadEntry } from "../../shared/outbox/index.js";
import { ReplayStore } from "../../shared/recordings/index.js";
import { bearerSecurity, createApp, decodeCursor, encodeCursor, errorResponses, jsonBody, jsonResponse, PageQuerySchema, pageOf } from "../../shared/http/index.js";
import { maxRoomId, RoomService, RoomStore } from "../../shared/rooms/index.js";
import type { TencentDeps } from "../../shared/tencent/index.js";

const RoomIdParams = z.object({
  roomId: z.coerce.number().int().min(1).max(maxRoomId).openapi({ param: { name: "roomId", in: "path" }, example: 100001 }),
});
const CohostParams = RoomIdParams.extend({ userId: UserIdSchema.openapi({ param: { name: "userId", in: "path" } }) });

const Title = z
  .string()
  .trim()
  .min(1, "must not be empty")
  .refine((title) => Buffer.byteLength(title) <= 30, "must be at most 30 bytes of UTF-8 (the IM group name limit)");

const PlayUrls = z.object({ rtmp: z.string(), flv: z.string(), hls: z.string() }).openapi("PlayUrls");
const Summary = z
  .object({ durationSeconds: z.number(), peakViewers: z.number(), totalViewers: z.number(), likes: z.number(), giftIncome: z.number(), heat: z.number() })
  .openapi("RoomSummary");
const Created = z
  .object({
    roomId: z.number().int(),
    groupId: z.string(),
    streamId: z.string(),
    status: z.literal("created"),
    title: z.string(),
    hostId: z.string(),
    createdAt: z.string(),
    pushUrl: z.string(),
    pushUrlExpiresAt: z.string(),
  })
  .openapi("CreatedRoom");
const Status = z.enum(["created", "live", "closed"]);
const RoomView = z
  .object({
    roomId: z.number().int(),
    title: z.string(),
    hostId: z.string(),
    status: Status,
    groupId: z.string(),
    streamId: z.string(),
    createdAt: z.string(),
    liveAt: z.string().nullable(),
    closedAt: z.string().nullable(),
    counts: z.object({
      online: z.number(),
      peakViewers: z.number(),
      totalViewers: z.number(),
      likes: z.number(),
      giftHeat: z.number(),
      giftIncome: z.number(),
      heat: z.number(),
    }),
    cohosts: z.array(z.object({ userId: z.string(), since: z.string() })),
    playUrls: PlayUrls,
    hostOnline: z.boolean().nullable().openapi({ description: "the host's IM connection as IM last reported it" }),
  })
  .openapi("Room");
const ListedRoom = z
  .object({
    roomId: z.number().int(),
    title: z.string(),
    hostId: z.string(),
    status: Status,
    liveAt: z.string().nullable(),
    heat: z.number().openapi({ description: "as of the host's last heartbeat" }),
    online: z.number().openapi({ description: "as of the host's last heartbeat" }),
    cohostCount: z.number(),
    playUrls: PlayUrls,
  })
  .openapi("ListedRoom");
const Ticket = z
  .object({
    roomId: z.number().int(),
    userId: z.string(),
    role: z.enum(["host", "cohost", "viewer"]),
    privilegeMap: z.number().int().openapi({ description: "TRTC privilege bits: host 255, co-host 254, viewer 170", example: 170 }),
    privateMapKey: z.string().openapi({ description: "pass as `privateMapKey` to TRTC enterRoom, and to switchRole" }),
    expiresAt: z.string(),
  })
  .openapi("RoomTicket");
const Member = z.object({ userId: z.string(), joinedAt: z.string() }).openapi("Member");
const DeadSideEffect = z
  .object({ entryId: z.string(), kind: z.string(), roomId: z.number().optional(), attempts: z.number(), lastError: z.string(), createdAt: z.string(), deadAt: z.string() })
  .openapi("DeadSideEffect");
const adminSecurity = [{ adminKey: [] }];

const errors = (...statuses: number[]) => errorResponses(401, ...statuses);
/** A bodiless POST on one room, e.g. `/v1/rooms/{roomId}/live`. */
const roomAction = <P extends string, R extends RouteConfig["responses"]>(path: P, summary: string, responses: R) =>
  createRoute({ method: "post", path, summary, security: bearerSecurity, request: { params: RoomIdParams }, responses });

const routes = {
  create: createRoute({
    method: "post",
    path: "/v1/rooms",
    summary: "Host creates a room: room id, IM group, stream id and signed push URL",
    security: bearerSecurity,
    request: { body: jsonBody(z.strictObject({ title: Title })) },
    responses: { 201: jsonResponse("Created", Created), ...errors(400, 502) },
  }),
  list: createRoute({
    method: "get",
    path: "/v1/rooms",
    summary: "Live rooms, newest or hottest first",
    security: bearerSecurity,
    request: { query: PageQuerySchema.extend({ sort: z.enum(["new", "hot"]).default("new") }) },
    responses: { 200: jsonResponse("Live rooms", pageOf(ListedRoom)), ...errors(400) },
  }),
  get: createRoute({
    method: "get",
    path: "/v1/rooms/{roomId}",
    summary: "A room with exact counts, co-hosts and play URLs",
    security: bearerSecurity,
    request: { params: RoomIdParams },
    responses: { 200: jsonResponse("Room", RoomView), ...errors(400, 404) },
  }),
  live: roomAction("/v1/rooms/{roomId}/live", "Host reports the AV room is up", {
    200: jsonResponse("Live", z.object({ roomId: z.number(), status: z.literal("live"), liveAt: z.string().nullable() })),
    ...errors(403, 404, 409),
  }),
  heartbeat: roomAction("/v1/rooms/{roomId}/heartbeat", "Host heartbeat", {
    200: jsonResponse("Status", z.object({ roomId: z.number(), status: Status, heartbeatIntervalSeconds: z.number() })),
    ...errors(403, 404),
  }),
  join: roomAction("/v1/rooms/{roomId}/members", "Caller joins as a viewer (idempotent)", {
    200: jsonResponse("Joined", z.object({ roomId: z.number(), userId: z.string(), joined: z.boolean() })),
    ...errors(404, 409),
  }),
  leave: createRoute({
    method: "delete",
    path: "/v1/rooms/{roomId}/members/me",
    summary: "Caller leaves (a no-op when not in the room)",
    security: bearerSecurity,
    request: { params: RoomIdParams },
    responses: { 200: jsonResponse("Left", z.object({ roomId: z.number(), userId: z.string(), left: z.boolean() })), ...errors(404) },
  }),
  members: createRoute({
    method: "get",
    path: "/v1/rooms/{roomId}/members",
    summary: "Viewers in the room",
    security: bearerSecurity,
    request: { params: RoomIdParams, query: PageQuerySchema },
    responses: { 200: jsonResponse("Members", pageOf(Member)), ...errors(400, 404) },
  }),
  likes: createRoute({
    method: "post",
    path: "/v1/rooms/{roomId}/likes",
    summary: "Likes add heat",
    security: bearerSecurity,
    request: { params: RoomIdParams, body: jsonBody(z.strictObject({ count: z.number().int().min(1).max(100) })) },
    responses: { 200: jsonResponse("Added", z.object({ roomId: z.number(), added: z.number() })), ...errors(400, 404, 409) },
  }),
  invite: createRoute({
    method: "post",
    path: "/v1/rooms/{roomId}/cohosts/invitations",
    summary: "Host invites a member to co-host (C2C message to the invitee)",
    security: bearerSecurity,
    request: { params: RoomIdParams, body: jsonBody(z.strictObject({ userId: UserIdSchema })) },
    responses: { 201: jsonResponse("Invited", z.object({ roomId: z.number(), userId: z.string(), expiresAt: z.string().nullable() })), ...errors(400, 403, 404, 409, 502) },
  }),
  ticket: roomAction("/v1/rooms/{roomId}/ticket", "The caller's TRTC ticket (PrivateMapKey) for the room, with the privileges of their role in it", {
    200: jsonResponse("Ticket", Ticket),
    ...errors(400, 403, 404, 409),
  }),
  onMic: roomAction("/v1/rooms/{roomId}/cohosts", "Invitee reports being on mic; the group is told. Carries the co-host ticket for switchRole", {
    200: jsonResponse("On mic", z.object({ roomId: z.number(), userId: z.string(), onMic: z.boolean(), ticket: Ticket })),
    ...errors(403, 404, 409),
  }),
  offMic: createRoute({
    method: "delete",
    path: "/v1/rooms/{roomId}/cohosts/{userId}",
    summary: "Host kicks a co-host or a co-host leaves; the group is told",
    security: bearerSecurity,
    request: { params: CohostParams },
    responses: { 200: jsonResponse("Off mic", z.object({ roomId: z.number(), userId: z.string(), onMic: z.boolean() })), ...errors(403, 404) },
  }),
  close: roomAction("/v1/rooms/{roomId}/close", "Host ends the live (idempotent) → end summary", {
    200: jsonResponse(
      "Closed",
      z.object({ roomId: z.number(), status: z.literal("closed"), reason: z.string(), summary: Summary, pendingEffects: z.number().openapi({ description: "Tencent side effects left for the sweeper" }) }),
    ),
    ...errors(403, 404),
  }),
  recordings: createRoute({
    method: "get",
    path: "/v1/rooms/{roomId}/recordings",
    summary: "A room's replay segments in recording order, with the whole replay's duration",
    security: bearerSecurity,
    request: { params: RoomIdParams, query: PageQuerySchema },
    responses: {
      200: jsonResponse(
        "Segments",
        z.object({
          roomId: z.number(),
          totalDurationSeconds: z.number(),
          items: z.array(z.object({ fileId: z.string(), url: z.string(), startAt: z.string(), endAt: z.string(), durationSeconds: z.number(), sizeBytes: z.number(), source: z.enum(["css", "vod"]) })),
          nextCursor: z.string().nullable(),
        }),
      ),
      ...errors(400, 404),
    },
  }),
  replays: createRoute({
    method: "get",
    path: "/v1/replays",
    summary: "Recent replays with their total duration",
    security: bearerSecurity,
    request: { query: PageQuerySchema },
    responses: {
      200: jsonResponse("Replays", pageOf(z.object({ roomId: z.number(), title: z.string(), hostId: z.string(), segments: z.number(), totalDurationSeconds: z.number(), updatedAt: z.string() }))),
      ...errors(400),
    },
  }),
  deadSideEffects: createRoute({
    method: "get",
    path: "/v1/admin/outbox/dead",
    summary: "Side effects that failed every retry, most recent first (X-Admin-Key)",
    security: adminSecurity,
    request: { query: PageQuerySchema },
    responses: { 200: jsonResponse("Dead side effects", pageOf(DeadSideEffect)), ...errors(400) },
  }),
  retrySideEffect: createRoute({
    method: "post",
    path: "/v1/admin/outbox/{entryId}/retry",
    summary: "Run a dead side effect again now, with a fresh series of retries (X-Admin-Key)",
    security: adminSecurity,
    request: { params: z.object({ entryId: z.string().min(1).max(200).openapi({ param: { name: "entryId", in: "path" }, example: "100001:close:dropStream" }) }) },
    responses: {
      200: jsonResponse("Ran: `done`, or `pending` when it failed again and the sweeper retries it", z.object({ entryId: z.string(), status: z.enum(["done", "pending"]) })),
      ...errors(404, 409),
    },
  }),
  summary: createRoute({
    method: "get",
    path: "/v1/rooms/{roomId}/summary",
    summary: "End summary of a closed room",
    security: bearerSecurity,
    request: { params: RoomIdParams },
    responses: { 200: jsonResponse("Summary", z.object({ roomId: z.number(), reason: z.string().optional(), closedAt: z.string().nullable(), summary: Summary })), ...errors(404, 409) },
  }),
};

const ReplayCursor = z.object({ after: z.string().max(64) });
const SegmentCursor = z.object({ after: z.string().min(1).max(256) });
const DeadCursor = z.object({ before: z.string().max(256) });
const MemberCursor = z.object({ shard: z.number().int().min(0).max(63), after: z.string().optional() });
const ListCursor = z.object({ sort: z.enum(["new", "hot"]), after: z.string().max(64) });

export interface RoomsAppDeps {
  db: Db;
  config: Config;
  tencent: TencentDeps;
}

/**
 * The rooms function: lifecycle, members, likes, co-hosting, close and summaries, replays, and
 * the operators' view of side effects (almost all of which are rooms').
 */
export function createRoomsApp(deps: RoomsAppDeps) {
  const app = createApp({ service: "rooms", corsOrigins: deps.config.corsOrigins });
  const authenticated = requireUser(deps);
  const service = (log: Logger) =>
    new RoomService({ store: new RoomStore(deps.db), tencent: deps.tencent, config: deps.config, log });
  const replays = new ReplayStore(deps.db);
  const authed = <R extends object>(route: R) => ({ ...route, middleware: [authenticated] }) as R;
  const admin = requireAdminKey(deps.config);
  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", { type: "http", scheme: "bearer" });
  app.openAPIRegistry.registerComponent("securitySchemes", "adminKey", { type: "apiKey", in: "header", name: "X-Admin-Key" });

  app.openapi(authed(routes.create), async (c) => c.json(await service(c.var.log).create(c.var.userId, c.req.valid("json").title), 201));

  app.openapi(authed(routes.list), async (c) => {
    const { sort, limit, cursor } = c.req.valid("query");
    const decoded = decodeCursor(cursor, ListCursor);
    if (decoded && decoded.sort !== sort) throw new BadRequestError("invalid_cursor", "cursor belongs to another sort order");
    const page = await service(c.var.log).list(sort, limit, decoded?.after);
    return c.json({ items: page.items, nextCursor: page.next ? encodeCursor({ sort, after: page.next }) : null }, 200);
  });

  app.openapi(authed(routes.get), async (c) => c.json(await service(c.var.log).view(c.req.valid("param").roomId), 200));
  app.openapi(authed(routes.live), async (c) => c.json(await service(c.var.log).goLive(c.req.valid("param").roomId, c.var.userId), 200));
  app.openapi(authed(routes.heartbeat), async (c) => c.json(await service(c.var.log).heartbeat(c.req.valid("param").roomId, c.var.userId), 200));
  app.openapi(authed(routes.join), async (c) => c.json(await service(c.var.log).join(c.req.valid("param").roomId, c.var.userId), 200));
  app.openapi(authed(routes.leave), async (c) => c.json(await service(c.var.log).leave(c.req.valid("param").roomId, c.var.userId), 200));

  app.openapi(authed(routes.members), async (c) => {
    const { limit, cursor } = c.req.valid("query");
    const page = await service(c.var.log).members(c.req.valid("param").roomId, limit, decodeCursor(cursor, MemberCursor));
    return c.json(
      {
        items: page.items.map((member) => ({ userId: member.userId, joinedAt: new Date(member.joinedAt).toISOString() })),
        nextCursor: page.next ? encodeCursor(page.next) : null,
      },
      200,
    );
  });

  app.openapi(authed(routes.likes), async (c) => c.json(await service(c.var.log).like(c.req.valid("param").roomId, c.req.valid("json").count), 200));
  app.openapi(authed(routes.invite), async (c) =>
    c.json(await service(c.var.log).invite(c.req.valid("param").roomId, c.var.userId, c.req.valid("json").userId), 201),
  );
  app.openapi(authed(routes.ticket), async (c) => c.json(await service(c.var.log).ticket(c.req.valid("param").roomId, c.var.userId), 200));
  app.openapi(authed(routes.onMic), async (c) => c.json(await service(c.var.log).goOnMic(c.req.valid("param").roomId, c.var.userId), 200));
  app.openapi(authed(routes.offMic), async (c) => {
    const { roomId, userId } = c.req.valid("param");
    return c.json(await service(c.var.log).removeCohost(roomId, c.var.userId, userId), 200);
  });
  app.openapi(authed(routes.close), async (c) => {
    // Without a condition a close always answers (closing an already closed room replays its summary).
    const { closedNow: _, ...closed } = (await service(c.var.log).close(c.req.valid("param").roomId, { by: c.var.userId, reason: "host" }))!;
    return c.json(closed, 200);
  });
  app.openapi(authed(routes.summary), async (c) => c.json(await service(c.var.log).summary(c.req.valid("param").roomId), 200));

  app.openapi(authed(routes.recordings), async (c) => {
    const { roomId } = c.req.valid("param");
    const { limit, cursor } = c.req.valid("query");
    const after = decodeCursor(cursor, SegmentCursor)?.after;
    const room = await new RoomStore(deps.db).getRoom(roomId);
    if (!room) throw new NotFoundError("room_not_found", `room ${roomId} does not exist`);
    // A room has a file per hour of live at most, so its segments are read whole (one Query)
    // and paged here, in start order.
    const segments = await replays.segments(roomId);
    const position = after === undefined ? -1 : segments.findIndex((segment) => segment.fileId === after);
    if (after !== undefined && position === -1) throw new BadRequestError("invalid_cursor", "cursor is not one this API returned");
    const start = position + 1;
    const page = segments.slice(start, start + limit);
    return c.json(
      {
        roomId,
        totalDurationSeconds: segments.reduce((sum, segment) => sum + segment.durationSeconds, 0),
        items: page.map(({ roomId: _, startAt, endAt, ...segment }) => ({ ...segment, startAt: new Date(startAt).toISOString(), endAt: new Date(endAt).toISOString() })),
        nextCursor: start + limit < segments.length ? encodeCursor({ after: page.at(-1)!.fileId }) : null,
      },
      200,
    );
  });

  app.openapi(authed(routes.replays), async (c) => {
    const { limit, cursor } = c.req.valid("query");
    const page = await replays.recent(limit, decodeCursor(cursor, ReplayCursor)?.after);
    return c.json(
      {
        items: page.items.map(({ updatedAt, ...replay }) => ({ ...replay, updatedAt: new Date(updatedAt).toISOString() })),
        nextCursor: page.next ? encodeCursor({ after: page.next }) : null,
      },
      200,
    );
  });

  app.openapi({ ...routes.deadSideEffects, middleware: [admin] }, async (c) => {
    const { limit, cursor } = c.req.valid("query");
    const page = await listDeadEntries(deps.db, limit, decodeCursor(cursor, DeadCursor)?.before);
    return c.json(
      {
        items: page.items.map(({ createdAt, deadAt, ...entry }) => ({ ...entry, createdAt: new Date(createdAt).toISOString(), deadAt: new Date(deadAt).toISOString() })),
        nextCursor: page.next ? encodeCursor({ before: page.next }) : null,
      },
      200,
    );
  });

  app.openapi({ ...routes.retrySideEffect, middleware: [admin] }, async (c) => {
    const { entryId } = c.req.valid("param");
    const result = await retryDeadEntry(deps.db, deps.tencent, c.var.log, entryId);
    if (!result) throw new NotFoundError("side_effect_not_found", `no side effect ${entryId}`);
    if (!result.revived) throw new ConflictError("side_effect_not_dead", `side effect ${entryId} is ${result.status}; only a dead one can be retried`);
    return c.json({ entryId, status: result.status }, 200);
  });
  return app;
}
