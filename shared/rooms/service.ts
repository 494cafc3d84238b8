import { randomInt } from "node:crypto";
import { Broadcaster } from "../broadcasts/index.js";
import type { Config } from "../config/index.js";
import { ConflictError, ForbiddenError, NotFoundError, UpstreamError } from "../errors/index.js";
import type { Logger } from "../log/index.js";
import { outboxPut, putOutboxEntry, roomClosedNoticeId, runOutbox, type OutboxEntry } from "../outbox/index.js";
import { isTencentError, UserSigSigner, type TencentDeps } from "../tencent/index.js";
import {
  groupIdFor,
  heatOf,
  isCohost,
  liveEndedAt,
  playUrls,
  privilegesOf,
  pushUrl,
  roomIdOfStream,
  streamPublisher,
  streamIdFor,
  summarize,
  type CloseReason,
  type RoomCounts,
  type RoomRole,
  type RoomSummary,
} from "./domain.js";
import { closeIndexAttributes, closingStamps, inviteKey, roomKey, RoomStore, type Room } from "./store.js";

/** How long a close waits for the room's pending gifts to go out before it tells the group. */
const closeFlushBudgetMs = 3_000;

export interface RoomServiceDeps {
  store: RoomStore;
  tencent: TencentDeps;
  config: Config;
  log: Logger;
}

/** Signalling messages onair puts in a room's group (JSON in a TIMCustomElem, `Desc` = type). */
export type RoomSignal =
  | { type: "cohost_invite"; roomId: number; hostId: string; expiresAt: string }
  | { type: "cohost_on"; roomId: number; userId: string }
  | { type: "cohost_off"; roomId: number; userId: string; by: "host" | "self" | "left" }
  | { type: "room_closed"; roomId: number; reason: CloseReason; summary: RoomSummary };

/** A per-room TRTC ticket: the PrivateMapKey the client passes to `enterRoom` and `switchRole`. */
export interface RoomTicket {
  roomId: number;
  userId: string;
  role: RoomRole;
  privilegeMap: number;
  privateMapKey: string;
  expiresAt: string;
}

export interface RoomView {
  roomId: number;
  title: string;
  hostId: string;
  status: Room["status"];
  groupId: string;
  streamId: string;
  createdAt: string;
  liveAt: string | null;
  closedAt: string | null;
  counts: RoomCounts & { peakViewers: number; heat: number };
  cohosts: { userId: string; since: string }[];
  playUrls: ReturnType<typeof playUrls>;
  /** The host's IM connection as IM last reported it; null when never reported. */
  hostOnline: boolean | null;
}

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

/** The room lifecycle: what the rooms function, the IM callbacks and the sweeper all call. */
export class RoomService {
  constructor(private readonly deps: RoomServiceDeps) {}

  private get store() {
    return this.deps.store;
  }
  private get config() {
    return this.deps.config;
  }

  /** Allocate the id, create the IM AVChatRoom, store the room, hand out the signed push URL. */
  async create(hostId: string, title: string) {
    const roomId = await this.store.allocateRoomId();
    const groupId = groupIdFor(roomId);
    const streamId = streamIdFor(this.config.sdkAppId, roomId, hostId);
    const now = Date.now();
    const room: Room = { roomId, hostId, title, status: "created", groupId, streamId, createdAt: now, lastHeartbeatAt: now, cohosts: {}, heat: 0, online: 0, peakViewers: 0 };
    // The room is written before its group: a crash in between leaves a created room that the
    // sweeper expires (destroying whatever group exists), never a group nothing knows of.
    await this.store.putNewRoom(room);
    try {
      // The owner must exist in IM; importing is idempotent.
      await this.deps.tencent.im.accountImport(hostId);
      await this.deps.tencent.im.createAvChatRoom(groupId, title, hostId);
    } catch (error) {
      // Nobody has been told this room id: take the room back.
      await this.store.deleteUnstartedRoom(roomId).catch((deleteError) =>
        this.deps.log.warn("could not remove a room whose group failed; the sweeper expires it", { roomId, error: deleteError }),
      );
      if (isTencentError(error)) throw new UpstreamError(`Cloud IM could not create the room's group (${error.code}); please retry`, error);
      throw error;
    }
    const pushExpiresAt = Math.floor(now / 1000) + this.config.pushUrlTtlSeconds;
    return {
      roomId,
      groupId,
      streamId,
      status: "created" as const,
      title,
      hostId,
      createdAt: iso(now)!,
      pushUrl: pushUrl({ pushDomain: this.config.cssPushDomain, pushKey: this.config.cssPushKey, streamId, expiresAtSeconds: pushExpiresAt }),
      pushUrlExpiresAt: iso(pushExpiresAt * 1000)!,
    };
  }

  /** A room, or 404. A created room past its time counts as closed (the sweeper tidies it up). */
  private async requireRoom(roomId: number, consistent = false, viaGroup?: string): Promise<Room> {
    const room = await this.store.getRoom(roomId, consistent);
    // An IM callback names a group; one that only borrows the room's number is not the room.
    if (!room || (viaGroup !== undefined && room.groupId !== viaGroup)) throw new NotFoundError("room_not_found", `room ${roomId} does not exist`);
    return room;
  }

  private isExpired(room: Room, nowMs: number) {
    return room.status === "created" && nowMs - room.createdAt > this.config.createdRoomTtlSeconds * 1000;
  }

  private requireHost(room: Room, userId: string, action: string) {
    if (room.hostId !== userId) throw new ForbiddenError("not_room_host", `only the host of room ${room.roomId} may ${action}`);
  }

  async goLive(roomId: number, userId: string) {
    for (let attempt = 0; attempt < 3; attempt++) {
      const room = await this.requireRoom(roomId, true);
      this.requireHost(room, userId, "report it live");
      if (room.status === "live") return { roomId, status: "live" as const, liveAt: iso(room.liveAt) };
      if (room.status === "closed" || room.closingAt !== undefined) throw new ConflictError("room_closed", `room ${roomId} is closed`);
      const now = Date.now();
      if (this.isExpired(room, now)) {
        throw new ConflictError("room_expired", `room ${roomId} was not reported live within ${this.config.createdRoomTtlSeconds} s; create a new room`);
      }
      const recording: OutboxEntry | undefined = this.config.recordingEnabled
        ? { entryId: `${roomId}:startRecording`, roomId, command: { kind: "startRecording", roomId } }
        : undefined;
      if (await this.store.markLive(room, now, recording ? [outboxPut(this.store.db, recording, now)] : [])) {
        if (recording) await runOutbox(this.store.db, this.deps.tencent, [recording], this.deps.log);
        return { roomId, status: "live" as const, liveAt: iso(now) };
      }
    }
    throw new ConflictError("room_busy", `room ${roomId} changed while going live; retry`);
  }

  /**
   * TRTC reported that the room's recorder exited on its own (kicked, idle, dismissed by the
   * server) while the room is live: start a new one, once per exited task however often the
   * event is delivered. The new task id replaces the old on the room.
   */
  async restartRecording(roomId: number, exitedTaskId: string): Promise<"restarted" | "ignored"> {
    const room = await this.store.getRoom(roomId, true);
    if (!this.config.recordingEnabled || room?.status !== "live" || room.recordingTaskId !== exitedTaskId) return "ignored";
    const entry: OutboxEntry = { entryId: `${roomId}:startRecording:${exitedTaskId}`, roomId, command: { kind: "startRecording", roomId } };
    // The entry id names the exited task, so a redelivered event finds it written and stops here.
    if (!(await putOutboxEntry(this.store.db, entry, Date.now()))) return "ignored";
    await runOutbox(this.store.db, this.deps.tencent, [entry], this.deps.log);
    return "restarted";
  }

  /** One read (room + counters) and one small conditional write. */
  async heartbeat(roomId: number, userId: string) {
    const { room, counts } = await this.store.getRoomWithCounts(roomId, true);
    if (!room) throw new NotFoundError("room_not_found", `room ${roomId} does not exist`);
    this.requireHost(room, userId, "heartbeat");
    const answer = { heartbeatIntervalSeconds: this.config.heartbeatIntervalSeconds };
    if (room.status === "closed" || this.isExpired(room, Date.now())) return { roomId, status: "closed" as const, ...answer };
    // A close began and died half-way: finish it now rather than leave the host heartbeating a closing room.
    if (room.closingAt !== undefined) {
      await this.close(roomId, { reason: room.closingReason ?? "host" });
      return { roomId, status: "closed" as const, ...answer };
    }
    if (!(await this.store.recordHeartbeat(room, counts, heatOf(counts), Date.now()))) {
      // Closed (or otherwise changed) between the read and the write.
      const now = await this.requireRoom(roomId, true);
      return { roomId, status: now.status, ...answer };
    }
    return { roomId, status: room.status, ...answer };
  }

  async view(roomId: number): Promise<RoomView> {
    const { room, counts } = await this.store.getRoomWithCounts(roomId);
    if (!room) throw new NotFoundError("room_not_found", `room ${roomId} does not exist`);
    return this.toView(room, counts);
  }

  private toView(room: Room, counts: RoomCounts): RoomView {
    const closed = room.status === "closed" || this.isExpired(room, Date.now());
    return {
      roomId: room.roomId,
      title: room.title,
      hostId: room.hostId,
      status: closed ? "closed" : room.status,
      groupId: room.groupId,
      streamId: room.streamId,
      createdAt: iso(room.createdAt)!,
      liveAt: iso(room.liveAt),
      closedAt: iso(room.closedAt),
      counts: {
        ...counts,
        online: closed ? 0 : counts.online,
        peakViewers: room.summary?.peakViewers ?? Math.max(room.peakViewers, counts.online),
        heat: heatOf(counts),
      },
      cohosts: Object.entries(room.cohosts)
        .sort(([, a], [, b]) => a - b)
        .map(([cohostId, since]) => ({ userId: cohostId, since: iso(since)! })),
      playUrls: playUrls(this.config.cssPlayDomain, room.streamId),
      hostOnline: room.hostOnline ?? null,
    };
  }

  /** Live rooms with the heat and viewer snapshot of their last heartbeat. */
  async list(sort: "new" | "hot", limit: number, after?: string) {
    const page = sort === "hot" ? await this.store.listHot(limit, after) : await this.store.listNew(limit, after);
    const rooms = await this.store.getRooms(page.roomIds);
    return {
      items: rooms
        .filter((room) => room.status === "live")
        .map((room) => ({
          roomId: room.roomId,
          title: room.title,
          hostId: room.hostId,
          status: room.status,
          liveAt: iso(room.liveAt),
          heat: room.heat,
          online: room.online,
          cohostCount: Object.keys(room.cohosts).length,
          playUrls: playUrls(this.config.cssPlayDomain, room.streamId),
        })),
      next: page.next,
    };
  }

  /** Join as a viewer: idempotent; the same path serves the IM member-join callback. */
  async join(roomId: number, userId: string, viaGroup?: string) {
    const room = await this.requireRoom(roomId, false, viaGroup);
    if (room.status === "closed" || this.isExpired(room, Date.now())) throw new ConflictError("room_closed", `room ${roomId} is closed`);
    if (room.hostId === userId) throw new ConflictError("host_is_not_a_viewer", "the host does not join their own room as a viewer");
    const outcome = await this.store.join(roomId, userId, Date.now());
    return { roomId, userId, joined: outcome !== "already" };
  }

  /** Leave: a no-op for someone not in the room; the same path serves the member-exit callback. */
  async leave(roomId: number, userId: string, viaGroup?: string) {
    const room = await this.requireRoom(roomId, true, viaGroup);
    const left = await this.store.leave(roomId, userId, Date.now());
    // A co-host who leaves the room leaves the mic too, or the room would show them on it.
    if (room.status !== "closed" && isCohost(room, userId)) await this.takeOffMic(room, userId, "left");
    return { roomId, userId, left };
  }

  async members(roomId: number, limit: number, cursor?: { shard: number; after?: string }) {
    await this.requireRoom(roomId);
    return this.store.listMembers(roomId, limit, cursor);
  }

  async like(roomId: number, count: number) {
    const room = await this.requireRoom(roomId);
    if (room.status !== "live") throw new ConflictError("room_not_live", `room ${roomId} is not live`);
    await this.store.addLikes(roomId, count);
    return { roomId, added: count };
  }

  /** Host invites a current member; delivered as a C2C custom message from the admin. */
  async invite(roomId: number, hostId: string, userId: string) {
    const room = await this.requireRoom(roomId, true);
    this.requireHost(room, hostId, "invite co-hosts");
    if (room.status !== "live") throw new ConflictError("room_not_live", `room ${roomId} is not live`);
    if (userId === hostId) throw new ConflictError("host_is_not_a_viewer", "the host cannot invite themself");
    if (isCohost(room, userId)) throw new ConflictError("already_cohost", `${userId} is already on mic`);
    if (Object.keys(room.cohosts).length >= this.config.maxCohosts) {
      throw new ConflictError("too_many_cohosts", `room ${roomId} already has ${this.config.maxCohosts} co-hosts`);
    }
    if (!(await this.store.isPresent(roomId, userId))) throw new ConflictError("not_a_member", `${userId} is not in room ${roomId}`);
    const expiresAt = Date.now() + this.config.cohostInviteTtlSeconds * 1000;
    await this.store.putInvitation(roomId, userId, expiresAt);
    const signal: RoomSignal = { type: "cohost_invite", roomId, hostId, expiresAt: iso(expiresAt)! };
    try {
      // C2C messages need the recipient to exist in IM; importing is idempotent.
      await this.deps.tencent.im.accountImport(userId);
      await this.deps.tencent.im.sendC2CMessage(userId, [{ MsgType: "TIMCustomElem", MsgContent: { Data: JSON.stringify(signal), Desc: signal.type, Ext: "" } }], randomInt(0, 2 ** 32 - 1));
    } catch (error) {
      // An invitation nobody received must not let anyone on mic.
      await this.store.deleteInvitation(roomId, userId);
      if (isTencentError(error)) throw new UpstreamError(`Cloud IM could not deliver the invitation (${error.code}); please retry`, error);
      throw error;
    }
    return { roomId, userId, expiresAt: iso(expiresAt) };
  }

  /**
   * The caller's TRTC ticket for a room, with the privileges of who they are in it right now:
   * the host of a created or live room, an on-mic co-host, or a joined viewer. Anyone else, or
   * a closed room, gets nothing. TRTC checks the ticket at room entry and at role switch, so a
   * viewer's ticket cannot push audio or video into the show.
   */
  async ticket(roomId: number, userId: string): Promise<RoomTicket> {
    const room = await this.requireRoom(roomId, true);
    if (room.status === "closed" || this.isExpired(room, Date.now())) throw new ConflictError("room_closed", `room ${roomId} is closed`);
    let role: RoomRole;
    if (room.hostId === userId) role = "host";
    else if (isCohost(room, userId)) role = "cohost";
    else if (await this.store.isPresent(roomId, userId)) role = "viewer";
    else throw new ForbiddenError("not_in_room", `${userId} has not joined room ${roomId}; join it first`);
    return this.issueTicket(roomId, userId, role);
  }

  private issueTicket(roomId: number, userId: string, role: RoomRole): RoomTicket {
    const signer = new UserSigSigner(this.config.sdkAppId, this.config.userSigKey);
    const privilegeMap = privilegesOf[role];
    const { userSig, expiresAtSeconds } = signer.issuePrivateMapKey(userId, roomId, privilegeMap, this.config.trtcTicketTtlSeconds);
    return { roomId, userId, role, privilegeMap, privateMapKey: userSig, expiresAt: iso(expiresAtSeconds * 1000)! };
  }

  /** The invitee reports being on mic: only with a live invitation; then the group is told. */
  async goOnMic(roomId: number, userId: string) {
    const room = await this.requireRoom(roomId, true);
    if (room.status !== "live") throw new ConflictError("room_not_live", `room ${roomId} is not live`);
    // The answer carries the co-host ticket the client needs for `switchRole(anchor)`.
    const onMic = () => ({ roomId, userId, onMic: true, ticket: this.issueTicket(roomId, userId, "cohost") });
    if (isCohost(room, userId)) return onMic();
    const now = Date.now();
    const signal: RoomSignal = { type: "cohost_on", roomId, userId };
    const entry = this.groupMessage(room, signal, `${roomId}:cohost_on:${userId}:${now}`);
    const outcome = await this.store.transact([
      {
        Delete: {
          TableName: this.store.db.table,
          Key: inviteKey(roomId, userId),
          ConditionExpression: "expiresAt > :now",
          ExpressionAttributeValues: { ":now": now },
        },
      },
      {
        Update: {
          TableName: this.store.db.table,
          Key: roomKey(roomId),
          UpdateExpression: "SET cohosts.#user = :now",
          ConditionExpression: "#status = :live AND attribute_not_exists(cohosts.#user) AND size(cohosts) < :max",
          ExpressionAttributeNames: { "#user": userId, "#status": "status" },
          ExpressionAttributeValues: { ":now": now, ":live": "live", ":max": this.config.maxCohosts },
        },
      },
      outboxPut(this.store.db, entry, now),
    ]);
    if (outcome === "conflict") {
      const latest = await this.requireRoom(roomId, true);
      if (isCohost(latest, userId)) return onMic();
      if (latest.status !== "live") throw new ConflictError("room_not_live", `room ${roomId} is not live`);
      if (Object.keys(latest.cohosts).length >= this.config.maxCohosts) throw new ConflictError("too_many_cohosts", `room ${roomId} already has ${this.config.maxCohosts} co-hosts`);
      throw new ForbiddenError("no_invitation", `${userId} has no live invitation to room ${roomId}`);
    }
    await runOutbox(this.store.db, this.deps.tencent, [entry], this.deps.log);
    return onMic();
  }

  /** Host kicks a co-host, or a co-host leaves: broadcast first, the client then stops its upload. */
  async removeCohost(roomId: number, callerId: string, userId: string) {
    const room = await this.requireRoom(roomId, true);
    const by = callerId === room.hostId ? "host" : callerId === userId ? "self" : undefined;
    if (!by) throw new ForbiddenError("not_room_host", "only the host or the co-host themself may end co-hosting");
    if (!isCohost(room, userId) || !(await this.takeOffMic(room, userId, by))) {
      throw new NotFoundError("not_a_cohost", `${userId} is not on mic in room ${roomId}`);
    }
    return { roomId, userId, onMic: false };
  }

  /** Remove a co-host and tell the group, in one transaction; false when they were already off. */
  private async takeOffMic(room: Room, userId: string, by: "host" | "self" | "left"): Promise<boolean> {
    const now = Date.now();
    const entry = this.groupMessage(room, { type: "cohost_off", roomId: room.roomId, userId, by }, `${room.roomId}:cohost_off:${userId}:${now}`);
    // Off the mic is out of the TRTC room too: a client that ignores the broadcast and keeps
    // pushing is removed (it may enter again only as a viewer, or with its old ticket until that expires).
    const removal: OutboxEntry = { entryId: `${room.roomId}:removeTrtcUser:${userId}:${now}`, roomId: room.roomId, command: { kind: "removeTrtcUser", roomId: room.roomId, userId } };
    const outcome = await this.store.transact([
      {
        Update: {
          TableName: this.store.db.table,
          Key: roomKey(room.roomId),
          UpdateExpression: "REMOVE cohosts.#user",
          ConditionExpression: "attribute_exists(cohosts.#user)",
          ExpressionAttributeNames: { "#user": userId },
        },
      },
      outboxPut(this.store.db, entry, now),
      outboxPut(this.store.db, removal, now),
    ]);
    if (outcome === "conflict") return false;
    await runOutbox(this.store.db, this.deps.tencent, [entry, removal], this.deps.log);
    return true;
  }

  /**
   * Close: idempotent, and it always succeeds for the caller. Two steps, so the summary is final:
   * first `closingAt` is set (on the room and on each counter shard, where gifts check it), after
   * which gifts, refunds and heartbeats are refused; then the
   * counters are read and the room's new state, its summary and every side effect (tell the
   * group, destroy it, dismiss the TRTC room, drop the stream) are written in one transaction.
   * The effects then run at once and failures stay in the outbox. A close that died between the
   * steps is finished by the next close, the host's or the sweeper's.
   */
  async close(
    roomId: number,
    options: { by?: string; reason: CloseReason; onlyIf?: (room: Room) => boolean; flaggedStream?: string },
  ): Promise<{ roomId: number; status: "closed"; reason: CloseReason; summary: RoomSummary; pendingEffects: number; closedNow: boolean } | undefined> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const { room } = await this.store.getRoomWithCounts(roomId, true);
      if (!room) throw new NotFoundError("room_not_found", `room ${roomId} does not exist`);
      if (options.by !== undefined) this.requireHost(room, options.by, "close it");
      if (room.status === "closed") {
        return { roomId, status: "closed", reason: room.closeReason ?? options.reason, summary: room.summary!, pendingEffects: 0, closedNow: false };
      }
      // The sweeper's closes re-check what made the room due (a heartbeat may have just arrived).
      if (room.closingAt === undefined && options.onlyIf && !options.onlyIf(room)) return undefined;
      const closingAt = room.closingAt ?? Date.now();
      const reason = room.closingReason ?? options.reason;
      if (room.closingAt === undefined) {
        const started = await this.store.transact([
          {
            Update: {
              TableName: this.store.db.table,
              Key: roomKey(roomId),
              UpdateExpression: "SET closingAt = :closingAt, closingReason = :reason",
              // Unchanged since the read: same status and last heartbeat, so a racing heartbeat or close wins.
              ConditionExpression: "#status = :was AND lastHeartbeatAt = :beat AND attribute_not_exists(closingAt)",
              ExpressionAttributeNames: { "#status": "status" },
              ExpressionAttributeValues: { ":closingAt": closingAt, ":reason": reason, ":was": room.status, ":beat": room.lastHeartbeatAt },
            },
          },
          ...closingStamps(this.store.db.table, roomId, closingAt),
        ]);
        if (started === "conflict") continue; // closed or changed meanwhile: read again
      } else {
        // Finishing a close that died half-way; one begun before the shards were stamped gets them now.
        await this.store.transact(closingStamps(this.store.db.table, roomId, closingAt));
      }
      // Read after `closingAt` holds: every gift and refund of the room is in these counters.
      const { counts } = await this.store.getRoomWithCounts(roomId, true);
      const now = Date.now();
      const summary = summarize(room, counts, liveEndedAt(room, reason, now));
      const effects = this.closeEffects(room, reason, summary, options.flaggedStream);
      const outcome = await this.store.transact([
        {
          Update: {
            TableName: this.store.db.table,
            Key: roomKey(roomId),
            UpdateExpression: `SET #status = :closed, closedAt = :now, closeReason = :reason, summary = :summary, cohosts = :none, #online = :zero REMOVE closingAt, closingReason, ${closeIndexAttributes}`,
            ConditionExpression: "#status = :was AND closingAt = :closingAt",
            ExpressionAttributeNames: { "#status": "status", "#online": "online" },
            ExpressionAttributeValues: {
              ":closed": "closed",
              ":now": now,
              ":reason": reason,
              ":summary": summary,
              ":none": {},
              ":zero": 0,
              ":was": room.status,
              ":closingAt": closingAt,
            },
          },
        },
        ...effects.map((entry) => outboxPut(this.store.db, entry, now)),
      ]);
      if (outcome === "conflict") continue; // another close finished it: read again
      this.deps.log.info("room closed", { roomId, reason, ...summary });
      const { failed } = await this.runCloseEffects(room, effects);
      return { roomId, status: "closed", reason, summary, pendingEffects: failed.length, closedNow: true };
    }
    throw new ConflictError("room_busy", `room ${roomId} changed while closing; retry`);
  }

  /**
   * Tell the group before destroying it (the destroy waits in the outbox while the notice is
   * pending); dismissing the TRTC room and dropping the stream run alongside.
   */
  private async runCloseEffects(room: Room, effects: OutboxEntry[]) {
    const [notify, destroy, ...rest] = effects;
    const results = await Promise.all([
      (async () => {
        await this.flushGifts(room);
        const first = await runOutbox(this.store.db, this.deps.tencent, [notify!], this.deps.log);
        const second = await runOutbox(this.store.db, this.deps.tencent, [destroy!], this.deps.log);
        return [...first.failed, ...second.failed];
      })(),
      runOutbox(this.store.db, this.deps.tencent, rest, this.deps.log).then((result) => result.failed),
    ]);
    return { failed: results.flat() };
  }

  /**
   * Gifts billed before the close (none can be billed after it) go out before `room_closed`; the
   * notice waits in the outbox while any is pending, so a flush cut short here only delays it.
   */
  private async flushGifts(room: Room) {
    const broadcaster = new Broadcaster({ db: this.store.db, im: this.deps.tencent.im, log: this.deps.log, settings: this.config.broadcasts });
    await broadcaster.flushAll(room, Date.now() + closeFlushBudgetMs).catch((error) => this.deps.log.warn("could not flush a closing room's gifts; the sweeper sends them", { roomId: room.roomId, error }));
  }

  /**
   * Tell the group, destroy it, dismiss the TRTC room, stop the recording, and drop the CDN
   * stream — or forbid it, when moderation closed the room, along with the flagged stream when
   * that was a co-host's.
   */
  private closeEffects(room: Room, reason: CloseReason, summary: RoomSummary, flaggedStream?: string): OutboxEntry[] {
    const id = (kind: string) => `${room.roomId}:close:${kind}`;
    const entry = (kind: string, command: OutboxEntry["command"]): OutboxEntry => ({ entryId: id(kind), roomId: room.roomId, command });
    return [
      this.groupMessage(room, { type: "room_closed", roomId: room.roomId, reason, summary }, roomClosedNoticeId(room.roomId)),
      entry("destroyGroup", { kind: "destroyGroup", groupId: room.groupId }),
      entry("dismissRoom", { kind: "dismissRoom", roomId: room.roomId }),
      reason === "moderation"
        ? entry("forbidStream", { kind: "forbidStream", streamId: room.streamId, reason: "content moderation" })
        : entry("dropStream", { kind: "dropStream", streamId: room.streamId }),
      ...(reason === "moderation" && flaggedStream && flaggedStream !== room.streamId
        ? [entry("forbidFlaggedStream", { kind: "forbidStream", streamId: flaggedStream, reason: "content moderation" })]
        : []),
      ...(room.recordingTaskId ? [entry("stopRecording", { kind: "stopRecording", taskId: room.recordingTaskId })] : []),
    ];
  }

  /**
   * A moderation block on a stream pushed under a live room's number by someone who is not on
   * the show (a viewer, a co-host already off the mic): the room stays open, but that stream is
   * forbidden and its publisher removed from the TRTC room. Once per stream however often CSS
   * reports it.
   */
  async forbidStrayStream(streamId: string): Promise<"forbidden" | "ignored"> {
    const publisher = streamPublisher(streamId, this.config.sdkAppId);
    if (!publisher) return "ignored";
    const room = await this.store.getRoom(publisher.roomId, true);
    if (!room || room.status === "closed") return "ignored";
    const entries: OutboxEntry[] = [
      { entryId: `${room.roomId}:forbidStray:${streamId}`, roomId: room.roomId, command: { kind: "forbidStream", streamId, reason: "content moderation" } },
      { entryId: `${room.roomId}:removeStray:${streamId}`, roomId: room.roomId, command: { kind: "removeTrtcUser", roomId: room.roomId, userId: publisher.userId } },
    ];
    const fresh: OutboxEntry[] = [];
    for (const entry of entries) if (await putOutboxEntry(this.store.db, entry, Date.now())) fresh.push(entry);
    if (fresh.length === 0) return "ignored";
    await runOutbox(this.store.db, this.deps.tencent, fresh, this.deps.log);
    return "forbidden";
  }

  /** The room whose host's own stream (`<sdkAppId>_<roomId>_<hostId>_main`) this is. */
  async roomOfStream(streamId: string): Promise<Room | undefined> {
    const roomId = roomIdOfStream(streamId, this.config.sdkAppId);
    if (roomId === undefined) return undefined;
    const room = await this.store.getRoom(roomId, true);
    return room?.streamId === streamId ? room : undefined;
  }

  /**
   * The room whose show `streamId` is part of: the host's stream, or an on-mic co-host's. A
   * stream someone else pushed under the room's number is not the show, and must not be able
   * to get the show closed.
   */
  async roomShowing(streamId: string): Promise<Room | undefined> {
    const publisher = streamPublisher(streamId, this.config.sdkAppId);
    if (!publisher) return undefined;
    const room = await this.store.getRoom(publisher.roomId, true);
    const onShow = room && (room.streamId === streamId || publisher.userId === room.hostId || isCohost(room, publisher.userId));
    return onShow ? room : undefined;
  }

  /** CSS reported a stream beginning or ending (idempotent; stale events are ignored). */
  async streamEvent(streamId: string, active: boolean, eventTimeMs: number): Promise<"recorded" | "ignored"> {
    const room = await this.roomOfStream(streamId);
    if (!room || room.status === "closed") return "ignored";
    return (await this.store.recordStreamEvent(room, active, eventTimeMs)) ? "recorded" : "ignored";
  }

  private groupMessage(room: Room, signal: RoomSignal, entryId: string): OutboxEntry {
    // A fixed Random per entry: a replay within 5 minutes is deduplicated by IM. Every room
    // signal is a state change clients must not miss, so High: IM drops it last, if ever.
    return {
      entryId,
      roomId: room.roomId,
      command: { kind: "sendGroupMessage", groupId: room.groupId, data: signal, desc: signal.type, random: randomInt(0, 2 ** 32 - 1), priority: "High" },
    };
  }

  /**
   * IM reported the host's connection state (login state or AVChatRoom member state). Only a
   * live room the user hosts changes; the sweeper closes a room whose heartbeats stop.
   */
  async hostConnection(userId: string, online: boolean, atMs: number, roomId?: number): Promise<boolean> {
    const target = roomId ?? (await this.store.hostedRoomId(userId));
    if (target === undefined) return false;
    return this.store.setHostOnline(target, userId, online, atMs);
  }

  async summary(roomId: number) {
    const room = await this.requireRoom(roomId);
    if (room.status !== "closed" || !room.summary) throw new ConflictError("room_not_closed", `room ${roomId} has not ended yet`);
    return { roomId, reason: room.closeReason, closedAt: iso(room.closedAt), summary: room.summary };
  }
}
