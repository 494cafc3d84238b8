import * as z from "zod/mini";
import { requireAdminKey, requireUser, UserIdSchema } from "../../shared/auth/index.js";
import type { Config } from "../../shared/config/index.js";
import type { Db } from "../../shared/db/index.js";
import type { Logger } from "../../shared/log/index.js";
import { BadRequestError, ConflictError, NotFoundError } from "../../shared/errors/index.js";
import { listDeadEntries, retryDeadEntry } from "../../shared/outbox/index.js";
import { ReplayStore } from "../../shared/recordings/index.js";
import {
  adminErrors,
  adminSecurity,
  bearerErrors,
  bearerSecurity,
  createApp,
  createRoute,
  decodeCursor,
  encodeCursor,
  errorResponses,
  jsonBody,
  jsonBodyErrors,
  jsonResponse,
  PageQuerySchema,
  pageOf,
  Timestamp,
  type ErrorCode,
  type RouteDefinition,
} from "../../shared/http/index.js";
import { maxRoomId, RoomService, RoomStore } from "../../shared/rooms/index.js";
import type { TencentDeps } from "../../shared/tencent/index.js";
import { lazy } from "../../shared/lazy/index.js";

const RoomIdParams = lazy(() => z.object({
  roomId: z.coerce.number().check(z.int(), z.minimum(1), z.maximum(maxRoomId), z.meta({ example: 100001 })),
}));
const CohostParams = lazy(() => z.extend(RoomIdParams(), { userId: UserIdSchema() }));

const Title = lazy(() => z
  .string()
  .check(
    z.trim(),
    z.minLength(1, "must not be empty"),
    z.refine((title) => Buffer.byteLength(title) <= 30, "must be at most 30 bytes of UTF-8 (the IM group name limit)"),
  ));

const PlayUrls = lazy(() => z.object({ rtmp: z.string(), flv: z.string(), hls: z.string() }).check(z.meta({ id: "PlayUrls" })));
const Summary = lazy(() => z
  .object({ durationSeconds: z.number(), peakViewers: z.number(), totalViewers: z.number(), likes: z.number(), giftIncome: z.number(), heat: z.number() })
  .check(z.meta({ id: "RoomSummary" })));
const Created = lazy(() => z
  .object({
    roomId: z.number().check(z.int()),
    groupId: z.string(),
    streamId: z.string(),
    status: z.literal("created"),
    title: z.string(),
    hostId: z.string(),
    createdAt: Timestamp(),
    pushUrl: z.string(),
    pushUrlExpiresAt: Timestamp(),
  })
  .check(z.meta({ id: "CreatedRoom" })));
const Status = lazy(() => z.enum(["created", "live", "closed"]));
const RoomView = lazy(() => z
  .object({
    roomId: z.number().check(z.int()),
    title: z.string(),
    hostId: z.string(),
    status: Status(),
    groupId: z.string(),
    streamId: z.string(),
    createdAt: Timestamp(),
    liveAt: z.nullable(Timestamp()),
    closedAt: z.nullable(Timestamp()),
    counts: z.object({
      online: z.number(),
      peakViewers: z.number(),
      totalViewers: z.number(),
      likes: z.number(),
      giftHeat: z.number(),
      giftIncome: z.number(),
      heat: z.number(),
    }),
    cohosts: z.array(z.object({ userId: z.string(), since: Timestamp() })),
    playUrls: PlayUrls(),
    hostOnline: z.nullable(z.boolean()).check(z.meta({ description: "the host's IM connection as IM last reported it" })),
  })
  .check(z.meta({ id: "Room" })));
const ListedRoom = lazy(() => z
  .object({
    roomId: z.number().check(z.int()),
    title: z.string(),
    hostId: z.string(),
    status: Status(),
    liveAt: z.nullable(Timestamp()),
    heat: z.number().check(z.meta({ description: "as of the host's last heartbeat" })),
    online: z.number().check(z.meta({ description: "as of the host's last heartbeat" })),
    cohostCount: z.number(),
    playUrls: PlayUrls(),
  })
  .check(z.meta({ id: "ListedRoom" })));
const Ticket = lazy(() => z
  .object({
    roomId: z.number().check(z.int()),
    userId: z.string(),
    role: z.enum(["host", "cohost", "viewer"]),
    privilegeMap: z.number().check(z.int(), z.meta({ description: "TRTC privilege bits: host 255, co-host 254, viewer 170", example: 170 })),
    privateMapKey: z.string().check(z.meta({ description: "pass as `privateMapKey` to TRTC enterRoom, and to switchRole" })),
    expiresAt: Timestamp(),
  })
  .check(z.meta({ id: "RoomTicket" })));
const Member = lazy(() => z.object({ userId: z.string(), joinedAt: Timestamp() }).check(z.meta({ id: "Member" })));
const Segment = lazy(() => z
  .object({ fileId: z.string(), url: z.string(), startAt: Timestamp(), endAt: Timestamp(), durationSeconds: z.number(), sizeBytes: z.number(), source: z.enum(["css", "vod"]) })
  .check(z.meta({ id: "ReplaySegment" })));
const Replay = lazy(() => z.object({ roomId: z.number(), title: z.string(), hostId: z.string(), segments: z.number(), totalDurationSeconds: z.number(), updatedAt: Timestamp() }).check(z.meta({ id: "Replay" })));
const DeadSideEffect = lazy(() => z
  .object({ entryId: z.string(), kind: z.string(), roomId: z.optional(z.number()), attempts: z.number(), lastError: z.string(), createdAt: Timestamp(), deadAt: Timestamp() })
  .check(z.meta({ id: "DeadSideEffect" })));

/** Examples the document shows, one room's life. */
const at = "2026-11-25T18:00:00.000Z";
const playUrls = { rtmp: "rtmp://play.example.com/live/1400000000_100001_alice_main", flv: "https://play.example.com/live/1400000000_100001_alice_main.flv", hls: "https://play.example.com/live/1400000000_100001_alice_main.m3u8" };
const summary = { durationSeconds: 1800, peakViewers: 120, totalViewers: 340, likes: 900, giftIncome: 520, heat: 5300 };
const ticket = { roomId: 100001, userId: "bob", role: "viewer" as const, privilegeMap: 170, privateMapKey: "eJyrVgrxCdYrSy1SslIy0jNQ0gHzM1PyUvPSMvNSQTJGBgZQBcUp2Y", expiresAt: "2026-11-25T18:05:00.000Z" };
const roomId = 100001;

/** Codes of a room route: the caller's token, the path's room id, the room itself. */
const roomErrors = (...codes: ErrorCode[]) => errorResponses(...bearerErrors, "invalid_parameter", "room_not_found", ...codes);
/** A room write may meet contention past its retries (409 store_busy). */
const roomWrite: ErrorCode[] = ["store_busy"];
/** A bodiless POST on one room, e.g. `/v1/rooms/{roomId}/live`. */
const roomAction = <P extends string, R extends RouteDefinition["responses"]>(operationId: string, path: P, summary: string, responses: R) =>
  createRoute({ method: "post", path, operationId, summary, security: bearerSecurity, request: () => ({ params: RoomIdParams() }), responses });

const routes = {
  create: createRoute({
    method: "post",
    path: "/v1/rooms",
    operationId: "createRoom",
    summary: "Host creates a room: room id, IM group, stream id and signed push URL",
    security: bearerSecurity,
    request: () => ({ body: jsonBody(z.strictObject({ title: Title() }), { title: "Friday night live" }) }),
    responses: () => ({
      201: jsonResponse("Created", Created(), {
        roomId,
        groupId: "room_100001",
        streamId: "1400000000_100001_alice_main",
        status: "created",
        title: "Friday night live",
        hostId: "alice",
        createdAt: at,
        pushUrl: "rtmp://push.example.com/live/1400000000_100001_alice_main?txSecret=0123456789abcdef&txTime=692A3A70",
        pushUrlExpiresAt: "2026-11-26T18:00:00.000Z",
      }),
      ...errorResponses(...bearerErrors, ...jsonBodyErrors, ...roomWrite, "upstream_unavailable"),
    }),
  }),
  list: createRoute({
    method: "get",
    path: "/v1/rooms",
    operationId: "listRooms",
    summary: "Live rooms, newest or hottest first",
    security: bearerSecurity,
    request: () => ({ query: z.extend(PageQuerySchema(), { sort: z._default(z.enum(["new", "hot"]), "new") }) }),
    responses: () => ({
      200: jsonResponse("Live rooms", pageOf(ListedRoom()), {
        items: [{ roomId, title: "Friday night live", hostId: "alice", status: "live", liveAt: at, heat: 5300, online: 118, cohostCount: 1, playUrls }],
        nextCursor: null,
      }),
      ...errorResponses(...bearerErrors, "invalid_parameter", "invalid_cursor"),
    }),
  }),
  get: createRoute({
    method: "get",
    path: "/v1/rooms/{roomId}",
    operationId: "getRoom",
    summary: "A room with exact counts, co-hosts and play URLs",
    security: bearerSecurity,
    request: () => ({ params: RoomIdParams() }),
    responses: () => ({
      200: jsonResponse("Room", RoomView(), {
        roomId,
        title: "Friday night live",
        hostId: "alice",
        status: "live",
        groupId: "room_100001",
        streamId: "1400000000_100001_alice_main",
        createdAt: at,
        liveAt: "2026-11-25T18:00:05.000Z",
        closedAt: null,
        counts: { online: 118, peakViewers: 120, totalViewers: 340, likes: 900, giftHeat: 1300, giftIncome: 520, heat: 5600 },
        cohosts: [{ userId: "bob", since: "2026-11-25T18:10:00.000Z" }],
        playUrls,
        hostOnline: true,
      }),
      ...roomErrors(),
    }),
  }),
  live: roomAction("goLive", "/v1/rooms/{roomId}/live", "Host reports the AV room is up", () => ({
    200: jsonResponse("Live", z.object({ roomId: z.number(), status: z.literal("live"), liveAt: z.nullable(Timestamp()) }), { roomId, status: "live", liveAt: at }),
    ...roomErrors(...roomWrite, "not_room_host", "room_closed", "room_expired", "room_busy"),
  })),
  heartbeat: roomAction("heartbeat", "/v1/rooms/{roomId}/heartbeat", "Host heartbeat; `status: closed` tells the client to stop", () => ({
    200: jsonResponse("Status", z.object({ roomId: z.number(), status: Status(), heartbeatIntervalSeconds: z.number() }), { roomId, status: "live", heartbeatIntervalSeconds: 10 }),
    ...roomErrors("not_room_host"),
  })),
  join: roomAction("joinRoom", "/v1/rooms/{roomId}/members", "Caller joins as a viewer (idempotent)", () => ({
    200: jsonResponse("Joined", z.object({ roomId: z.number(), userId: z.string(), joined: z.boolean() }), { roomId, userId: "bob", joined: true }),
    ...roomErrors(...roomWrite, "room_closed", "host_is_not_a_viewer"),
  })),
  leave: createRoute({
    method: "delete",
    path: "/v1/rooms/{roomId}/members/me",
    operationId: "leaveRoom",
    summary: "Caller leaves (a no-op when not in the room)",
    security: bearerSecurity,
    request: () => ({ params: RoomIdParams() }),
    responses: () => ({
      200: jsonResponse("Left", z.object({ roomId: z.number(), userId: z.string(), left: z.boolean() }), { roomId, userId: "bob", left: true }),
      ...roomErrors(...roomWrite),
    }),
  }),
  members: createRoute({
    method: "get",
    path: "/v1/rooms/{roomId}/members",
    operationId: "listMembers",
    summary: "Viewers in the room",
    security: bearerSecurity,
    request: () => ({ params: RoomIdParams(), query: PageQuerySchema() }),
    responses: () => ({
      200: jsonResponse("Members", pageOf(Member()), { items: [{ userId: "bob", joinedAt: at }], nextCursor: null }),
      ...roomErrors("invalid_cursor"),
    }),
  }),
  likes: createRoute({
    method: "post",
    path: "/v1/rooms/{roomId}/likes",
    operationId: "addLikes",
    summary: "Likes add heat",
    security: bearerSecurity,
    request: () => ({ params: RoomIdParams(), body: jsonBody(z.strictObject({ count: z.number().check(z.int(), z.minimum(1), z.maximum(100)) }), { count: 5 }) }),
    responses: () => ({
      200: jsonResponse("Added", z.object({ roomId: z.number(), added: z.number() }), { roomId, added: 5 }),
      ...roomErrors(...jsonBodyErrors, ...roomWrite, "room_not_live"),
    }),
  }),
  invite: createRoute({
    method: "post",
    path: "/v1/rooms/{roomId}/cohosts/invitations",
    operationId: "inviteCohost",
    summary: "Host invites a member to co-host (C2C message to the invitee)",
    security: bearerSecurity,
    request: () => ({ params: RoomIdParams(), body: jsonBody(z.strictObject({ userId: UserIdSchema() }), { userId: "bob" }) }),
    responses: () => ({
      201: jsonResponse("Invited", z.object({ roomId: z.number(), userId: z.string(), expiresAt: z.nullable(Timestamp()) }), { roomId, userId: "bob", expiresAt: "2026-11-25T18:11:00.000Z" }),
      ...roomErrors(...jsonBodyErrors, "not_room_host", "room_not_live", "host_is_not_a_viewer", "already_cohost", "too_many_cohosts", "not_a_member", "upstream_unavailable"),
    }),
  }),
  ticket: roomAction("getTicket", "/v1/rooms/{roomId}/ticket", "The caller's TRTC ticket (PrivateMapKey) for the room, with the privileges of their role in it", () => ({
    200: jsonResponse("Ticket", Ticket(), ticket),
    ...roomErrors("not_in_room", "room_closed"),
  })),
  onMic: roomAction("goOnMic", "/v1/rooms/{roomId}/cohosts", "Invitee reports being on mic; the group is told. Carries the co-host ticket for switchRole", () => ({
    200: jsonResponse("On mic", z.object({ roomId: z.number(), userId: z.string(), onMic: z.boolean(), ticket: Ticket() }), {
      roomId,
      userId: "bob",
      onMic: true,
      ticket: { ...ticket, role: "cohost", privilegeMap: 254 },
    }),
    ...roomErrors(...roomWrite, "no_invitation", "room_not_live", "too_many_cohosts"),
  })),
  offMic: createRoute({
    method: "delete",
    path: "/v1/rooms/{roomId}/cohosts/{userId}",
    operationId: "removeCohost",
    summary: "Host kicks a co-host or a co-host leaves; the group is told",
    security: bearerSecurity,
    request: () => ({ params: CohostParams() }),
    responses: () => ({
      200: jsonResponse("Off mic", z.object({ roomId: z.number(), userId: z.string(), onMic: z.boolean() }), { roomId, userId: "bob", onMic: false }),
      ...roomErrors(...roomWrite, "not_room_host", "not_a_cohost"),
    }),
  }),
  close: roomAction("closeRoom", "/v1/rooms/{roomId}/close", "Host ends the live (idempotent) → end summary", () => ({
    200: jsonResponse(
      "Closed",
      z.object({ roomId: z.number(), status: z.literal("closed"), reason: z.string(), summary: Summary(), pendingEffects: z.number().check(z.meta({ description: "Tencent side effects left for the sweeper" })) }),
      { roomId, status: "closed", reason: "host", summary, pendingEffects: 0 },
    ),
    ...roomErrors(...roomWrite, "not_room_host", "room_busy"),
  })),
  recordings: createRoute({
    method: "get",
    path: "/v1/rooms/{roomId}/recordings",
    operationId: "listRecordings",
    summary: "A room's replay segments in recording order, with the whole replay's duration",
    security: bearerSecurity,
    request: () => ({ params: RoomIdParams(), query: PageQuerySchema() }),
    responses: () => ({
      200: jsonResponse("Segments", z.object({ roomId: z.number(), totalDurationSeconds: z.number(), items: z.array(Segment()), nextCursor: z.nullable(z.string()) }), {
        roomId,
        totalDurationSeconds: 1800,
        items: [
          {
            fileId: "5285890799999999999",
            url: "https://1250000000.vod2.myqcloud.com/f0.mp4",
            startAt: "2026-11-25T18:00:05.000Z",
            endAt: "2026-11-25T18:30:05.000Z",
            durationSeconds: 1800,
            sizeBytes: 360000000,
            source: "vod",
          },
        ],
        nextCursor: null,
      }),
      ...roomErrors("invalid_cursor"),
    }),
  }),
  replays: createRoute({
    method: "get",
    path: "/v1/replays",
    operationId: "listReplays",
    summary: "Recent replays with their total duration",
    security: bearerSecurity,
    request: () => ({ query: PageQuerySchema() }),
    responses: () => ({
      200: jsonResponse("Replays", pageOf(Replay()), {
        items: [{ roomId, title: "Friday night live", hostId: "alice", segments: 1, totalDurationSeconds: 1800, updatedAt: "2026-11-25T18:30:07.000Z" }],
        nextCursor: null,
      }),
      ...errorResponses(...bearerErrors, "invalid_parameter", "invalid_cursor"),
    }),
  }),
  deadSideEffects: createRoute({
    method: "get",
    path: "/v1/admin/outbox/dead",
    operationId: "listDeadSideEffects",
    summary: "Side effects that failed every retry, most recent first (X-Admin-Key)",
    security: adminSecurity,
    request: () => ({ query: PageQuerySchema() }),
    responses: () => ({
      200: jsonResponse("Dead side effects", pageOf(DeadSideEffect()), {
        items: [{ entryId: "100001:close:dropStream", kind: "dropStream", roomId, attempts: 8, lastError: "InternalError: timeout", createdAt: at, deadAt: "2026-11-25T19:10:00.000Z" }],
        nextCursor: null,
      }),
      ...errorResponses(...adminErrors, "invalid_parameter", "invalid_cursor"),
    }),
  }),
  retrySideEffect: createRoute({
    method: "post",
    path: "/v1/admin/outbox/{entryId}/retry",
    operationId: "retrySideEffect",
    summary: "Run a dead side effect again now, with a fresh series of retries (X-Admin-Key)",
    security: adminSecurity,
    request: () => ({ params: z.object({ entryId: z.string().check(z.minLength(1), z.maxLength(200), z.meta({ example: "100001:close:dropStream" })) }) }),
    responses: () => ({
      200: jsonResponse("Ran: `done`, or `pending` when it failed again and the sweeper retries it", z.object({ entryId: z.string(), status: z.enum(["done", "pending"]) }), {
        entryId: "100001:close:dropStream",
        status: "done",
      }),
      ...errorResponses(...adminErrors, "invalid_parameter", "side_effect_not_found", "side_effect_not_dead"),
    }),
  }),
  summary: createRoute({
    method: "get",
    path: "/v1/rooms/{roomId}/summary",
    operationId: "getRoomSummary",
    summary: "End summary of a closed room",
    security: bearerSecurity,
    request: () => ({ params: RoomIdParams() }),
    responses: () => ({
      200: jsonResponse("Summary", z.object({ roomId: z.number(), reason: z.optional(z.string()), closedAt: z.nullable(Timestamp()), summary: Summary() }), {
        roomId,
        reason: "host",
        closedAt: "2026-11-25T18:30:05.000Z",
        summary,
      }),
      ...roomErrors("room_not_closed"),
    }),
  }),
};

const ReplayCursor = lazy(() => z.object({ after: z.string().check(z.maxLength(64)) }));
const SegmentCursor = lazy(() => z.object({ after: z.string().check(z.minLength(1), z.maxLength(256)) }));
const DeadCursor = lazy(() => z.object({ before: z.string().check(z.maxLength(256)) }));
const MemberCursor = lazy(() => z.object({ shard: z.number().check(z.int(), z.minimum(0), z.maximum(63)), after: z.optional(z.string()) }));
const ListCursor = lazy(() => z.object({ sort: z.enum(["new", "hot"]), after: z.string().check(z.maxLength(64)) }));

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

  app.openapi(authed(routes.create), async (c) => c.json(await service(c.var.log).create(c.var.userId, c.req.valid("json").title), 201));

  app.openapi(authed(routes.list), async (c) => {
    const { sort, limit, cursor } = c.req.valid("query");
    const decoded = decodeCursor(cursor, ListCursor());
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
    const page = await service(c.var.log).members(c.req.valid("param").roomId, limit, decodeCursor(cursor, MemberCursor()));
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
    const after = decodeCursor(cursor, SegmentCursor())?.after;
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
    const page = await replays.recent(limit, decodeCursor(cursor, ReplayCursor())?.after);
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
    const page = await listDeadEntries(deps.db, limit, decodeCursor(cursor, DeadCursor())?.before);
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
