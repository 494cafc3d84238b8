import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand, type QueryCommandOutput } from "../db/commands.js";
import { batchGet, isConditionFailed, isUnresolvedWrite, transact, type Db, type TransactItem } from "../db/index.js";
import { ConflictError, StoreUnavailableError } from "../errors/index.js";
import {
  counterShards,
  firstRoomId,
  heartbeatShards,
  hotShards,
  maxRoomId,
  memberShards,
  orderKey,
  shardOf,
  sumCounts,
  type CloseReason,
  type RoomCounts,
  type RoomStatus,
  type RoomSummary,
} from "./domain.js";

/**
 * DynamoDB access for rooms. Every access is a GetItem, BatchGetItem, Query on a key or a
 * conditional write; keys (README "Data model"):
 *
 * - room         pk `ROOM#<id>`               sk `ROOM`
 *   gsi1 `HBC#<shard>`/ `<createdAt>#<id>`        while created (the sweeper's expiry query)
 *   gsi1 `HB#<shard>` / `<lastHeartbeatAt>#<id>`  while live (the sweeper's stale query)
 *   gsi2 `LIVE`       / `<liveAt>#<id>`           while live (list, newest first; written at live and close only)
 *   gsi3 `HOT#<shard>`/ `<heat>#<id>`             while live (list, hottest first; heat refreshed by heartbeats)
 * - counters     pk `ROOMCTR#<id>#<shard>`    sk `COUNTER`    16 shards: online, totalViewers, likes, giftHeat, giftIncome
 * - member       pk `ROOMMEM#<id>#<shard>`    sk `MEMBER#<userId>`   16 partitions, shard = hash(userId)
 * - invitation   pk `ROOM#<id>`               sk `INVITE#<userId>`
 * - room ids     pk `SEQ#rooms`               sk `SEQ`
 * - hosting      pk `USER#<hostId>`           sk `HOSTING`   → the room the user hosts most recently
 * - stream gone  pk `STREAMGONE#<id>`         sk `MARK`; gsi1 `STREAMGONE#<shard>` / `<endedAt>#<id>`
 */
export interface Room {
  roomId: number;
  hostId: string;
  title: string;
  status: RoomStatus;
  groupId: string;
  streamId: string;
  createdAt: number;
  liveAt?: number;
  closedAt?: number;
  closeReason?: CloseReason;
  /**
   * Set by the first step of a close: from then on no gift, refund or heartbeat changes the room,
   * so the summary read next is final. Removed when the close commits.
   */
  closingAt?: number;
  /** Why that close began, so whoever finishes it records the same reason. */
  closingReason?: CloseReason;
  lastHeartbeatAt: number;
  /** co-host userId → on-mic time (ms) */
  cohosts: Record<string, number>;
  /** Snapshots refreshed by heartbeats (used by the list; the room view sums counters live). */
  heat: number;
  online: number;
  peakViewers: number;
  summary?: RoomSummary;
  /** The host's IM connection as last reported by IM callbacks (absent: never reported). */
  hostOnline?: boolean;
  /** The CSS stream as CSS callbacks last reported it. */
  streamState?: "active" | "inactive";
  streamChangedAt?: number;
  /** TRTC cloud-recording task, once started. */
  recordingTaskId?: string;
}

export const roomKey = (roomId: number) => ({ pk: `ROOM#${roomId}`, sk: "ROOM" });
export const counterKey = (roomId: number, shard: number) => ({ pk: `ROOMCTR#${roomId}#${shard}`, sk: "COUNTER" });
export const memberKey = (roomId: number, userId: string) => ({ pk: `ROOMMEM#${roomId}#${shardOf(userId, memberShards)}`, sk: `MEMBER#${userId}` });
export const inviteKey = (roomId: number, userId: string) => ({ pk: `ROOM#${roomId}`, sk: `INVITE#${userId}` });
export const hostingKey = (userId: string) => ({ pk: `USER#${userId}`, sk: "HOSTING" });

/**
 * Where a room waits for the sweeper in gsi1: live rooms under `HB#` by last heartbeat, created
 * rooms under `HBC#` by creation time, so each sweep query reads only rooms past their limit.
 */
export const heartbeatIndexKeys = (roomId: number, atMs: number, status: "created" | "live") => ({
  gsi1pk: `${status === "live" ? "HB" : "HBC"}#${shardOf(String(roomId), heartbeatShards)}`,
  gsi1sk: orderKey(atMs, roomId),
});
const streamGoneKey = (roomId: number) => ({ pk: `STREAMGONE#${roomId}`, sk: "MARK" });
const hotIndexKeys = (roomId: number, heat: number) => ({ gsi3pk: `HOT#${shardOf(String(roomId), hotShards)}`, gsi3sk: orderKey(heat, roomId) });
const liveIndexKeys = (roomId: number, liveAt: number) => ({ gsi2pk: "LIVE", gsi2sk: orderKey(liveAt, roomId) });

const counterFields = ["online", "totalViewers", "likes", "giftHeat", "giftIncome"] as const;

function toRoom(item: Record<string, unknown>): Room {
  return {
    roomId: Number(item.roomId),
    hostId: String(item.hostId),
    title: String(item.title),
    status: item.status as RoomStatus,
    groupId: String(item.groupId),
    streamId: String(item.streamId),
    createdAt: Number(item.createdAt),
    liveAt: item.liveAt === undefined ? undefined : Number(item.liveAt),
    closedAt: item.closedAt === undefined ? undefined : Number(item.closedAt),
    closeReason: item.closeReason as CloseReason | undefined,
    closingAt: item.closingAt === undefined ? undefined : Number(item.closingAt),
    closingReason: item.closingReason as CloseReason | undefined,
    lastHeartbeatAt: Number(item.lastHeartbeatAt),
    // No prototype: a user named `constructor` or `toString` must not look like a co-host.
    cohosts: Object.assign(Object.create(null) as Record<string, number>, item.cohosts as Record<string, number> | undefined),
    heat: Number(item.heat ?? 0),
    online: Number(item.online ?? 0),
    peakViewers: Number(item.peakViewers ?? 0),
    summary: item.summary as RoomSummary | undefined,
    hostOnline: item.hostOnline as boolean | undefined,
    streamState: item.streamState as Room["streamState"],
    streamChangedAt: item.streamChangedAt === undefined ? undefined : Number(item.streamChangedAt),
    recordingTaskId: item.recordingTaskId as string | undefined,
  };
}

export class RoomStore {
  constructor(readonly db: Db) {}

  private get table() {
    return this.db.table;
  }

  /** A fresh room id from one atomic counter; ids are never reused, even after a failed create. */
  async allocateRoomId(): Promise<number> {
    const { Attributes } = await this.db.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: "SEQ#rooms", sk: "SEQ" },
        UpdateExpression: "ADD seq :one",
        ExpressionAttributeValues: { ":one": 1 },
        ReturnValues: "UPDATED_NEW",
      }),
    );
    const roomId = firstRoomId + Number(Attributes?.seq) - 1;
    if (roomId > maxRoomId) throw new Error("room id space exhausted");
    return roomId;
  }

  /** The new room and the host's pointer to it (IM login-state callbacks name only the user). */
  async putNewRoom(room: Room): Promise<void> {
    // The id is fresh, so the condition can only fail if this very write committed once already.
    await this.transact([
      {
        Put: {
          TableName: this.table,
          Item: { ...roomKey(room.roomId), type: "room", ...room, ...heartbeatIndexKeys(room.roomId, room.createdAt, "created") },
          ConditionExpression: "attribute_not_exists(pk)",
        },
      },
      { Put: { TableName: this.table, Item: { ...hostingKey(room.hostId), type: "hosting", roomId: room.roomId } } },
    ]);
  }

  /** Remove a room nobody has seen yet (its create failed), only while it is still just created. */
  async deleteUnstartedRoom(roomId: number): Promise<void> {
    try {
      await this.db.doc.send(
        new DeleteCommand({
          TableName: this.table,
          Key: roomKey(roomId),
          ConditionExpression: "#status = :created",
          ExpressionAttributeNames: { "#status": "status" },
          ExpressionAttributeValues: { ":created": "created" },
        }),
      );
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
    }
  }

  /** The room a user hosts most recently, if any. */
  async hostedRoomId(userId: string): Promise<number | undefined> {
    const { Item } = await this.db.doc.send(new GetCommand({ TableName: this.table, Key: hostingKey(userId) }));
    return Item ? Number(Item.roomId) : undefined;
  }

  /** Record the host's IM connection state on a live room they host. */
  async setHostOnline(roomId: number, hostId: string, online: boolean, atMs: number): Promise<boolean> {
    try {
      await this.db.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: roomKey(roomId),
          UpdateExpression: "SET hostOnline = :online, hostStateAt = :at",
          ConditionExpression: "hostId = :host AND #status = :live AND (attribute_not_exists(hostStateAt) OR hostStateAt <= :at)",
          ExpressionAttributeNames: { "#status": "status" },
          ExpressionAttributeValues: { ":online": online, ":at": atMs, ":host": hostId, ":live": "live" },
        }),
      );
      return true;
    } catch (error) {
      if ((error as Error).name === "ConditionalCheckFailedException") return false;
      throw error;
    }
  }

  async getRoom(roomId: number, consistent = false): Promise<Room | undefined> {
    const { Item } = await this.db.doc.send(new GetCommand({ TableName: this.table, Key: roomKey(roomId), ConsistentRead: consistent }));
    return Item ? toRoom(Item) : undefined;
  }

  /** The room and its counters summed over every shard, in one BatchGetItem. */
  async getRoomWithCounts(roomId: number, consistent = false): Promise<{ room?: Room; counts: RoomCounts }> {
    const keys = [roomKey(roomId), ...Array.from({ length: counterShards }, (_, shard) => counterKey(roomId, shard))];
    const items = await batchGet(this.db, keys, consistent);
    const roomItem = items.find((item) => item.sk === "ROOM");
    const counters = items.filter((item) => item.sk === "COUNTER") as Partial<RoomCounts>[];
    return { room: roomItem ? toRoom(roomItem) : undefined, counts: sumCounts(counters) };
  }

  /**
   * created → live, only from `created` and only by the host; `alongside` (the recording's
   * outbox entry) is written in the same transaction. False when the room changed meanwhile.
   */
  async markLive(room: Room, nowMs: number, alongside: Record<string, unknown>[] = []): Promise<boolean> {
    const update = {
      TableName: this.table,
      Key: roomKey(room.roomId),
      UpdateExpression:
        "SET #status = :live, liveAt = :now, lastHeartbeatAt = :now, gsi1pk = :hbpk, gsi1sk = :hbsk, gsi2pk = :livepk, gsi2sk = :livesk, gsi3pk = :hotpk, gsi3sk = :hotsk",
          // Not once a close began (the sweeper expiring it): the host would be told live, then closed.
          ConditionExpression: "#status = :created AND hostId = :host AND attribute_not_exists(closingAt)",
          ExpressionAttributeNames: { "#status": "status" },
          ExpressionAttributeValues: {
            ":live": "live",
            ":created": "created",
            ":host": room.hostId,
            ":now": nowMs,
            ...prefixed(heartbeatIndexKeys(room.roomId, nowMs, "live"), { gsi1pk: ":hbpk", gsi1sk: ":hbsk" }),
            ...prefixed(liveIndexKeys(room.roomId, nowMs), { gsi2pk: ":livepk", gsi2sk: ":livesk" }),
            ...prefixed(hotIndexKeys(room.roomId, room.heat), { gsi3pk: ":hotpk", gsi3sk: ":hotsk" }),
          },
    };
    return (await this.transact([{ Update: update }, ...alongside] as never)) === "ok";
  }

  /**
   * One small write: the heartbeat time (and its index key), plus the heat/viewer snapshot the
   * live list shows. Conditional on the host and a room that is not closed.
   */
  async recordHeartbeat(room: Room, counts: RoomCounts, heat: number, nowMs: number): Promise<boolean> {
    const live = room.status === "live";
    const peak = Math.max(room.peakViewers, counts.online);
    const hot = hotIndexKeys(room.roomId, heat);
    try {
      await this.db.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: roomKey(room.roomId),
          UpdateExpression: "SET lastHeartbeatAt = :now, heat = :heat, #online = :online, peakViewers = :peak" + (live ? ", gsi1sk = :hbsk, gsi3sk = :hotsk" : ""),
          // A room being closed takes no heartbeats: a close that died half-way is finished by the sweeper.
          ConditionExpression: "hostId = :host AND #status = :status AND attribute_not_exists(closingAt)",
          ExpressionAttributeNames: { "#status": "status", "#online": "online" },
          ExpressionAttributeValues: {
            ":now": nowMs,
            ":heat": heat,
            ":online": counts.online,
            ":peak": peak,
            ":host": room.hostId,
            ":status": room.status,
            ...(live ? { ":hotsk": hot.gsi3sk, ":hbsk": heartbeatIndexKeys(room.roomId, nowMs, "live").gsi1sk } : {}),
          },
        }),
      );
      return true;
    } catch (error) {
      if ((error as Error).name === "ConditionalCheckFailedException") return false;
      throw error;
    }
  }

  /**
   * Join: idempotent and exact. A first join adds to online and distinct viewers; a re-join
   * after leaving adds to online only; a join while present changes nothing.
   */
  async join(roomId: number, userId: string, nowMs: number): Promise<"joined" | "rejoined" | "already"> {
    const member = memberKey(roomId, userId);
    const counter = counterKey(roomId, shardOf(userId, memberShards) % counterShards);
    const first = await this.transact([
      {
        Put: {
          TableName: this.table,
          Item: { ...member, type: "member", roomId, userId, present: true, joinedAt: nowMs, firstJoinedAt: nowMs },
          ConditionExpression: "attribute_not_exists(pk)",
        },
      },
      counterUpdate(this.table, counter, { online: 1, totalViewers: 1 }),
    ]);
    if (first === "ok") return "joined";
    const again = await this.transact([
      {
        Update: {
          TableName: this.table,
          Key: member,
          UpdateExpression: "SET present = :true, joinedAt = :now",
          ConditionExpression: "present = :false",
          ExpressionAttributeValues: { ":true": true, ":false": false, ":now": nowMs },
        },
      },
      counterUpdate(this.table, counter, { online: 1 }),
    ]);
    return again === "ok" ? "rejoined" : "already";
  }

  /** Leave: only a present member's leave counts, so online never goes below zero. */
  async leave(roomId: number, userId: string, nowMs: number): Promise<boolean> {
    const outcome = await this.transact([
      {
        Update: {
          TableName: this.table,
          Key: memberKey(roomId, userId),
          UpdateExpression: "SET present = :false, leftAt = :now",
          ConditionExpression: "present = :true",
          ExpressionAttributeValues: { ":true": true, ":false": false, ":now": nowMs },
        },
      },
      counterUpdate(this.table, counterKey(roomId, shardOf(userId, memberShards) % counterShards), { online: -1 }),
    ]);
    return outcome === "ok";
  }

  async isPresent(roomId: number, userId: string): Promise<boolean> {
    const { Item } = await this.db.doc.send(new GetCommand({ TableName: this.table, Key: memberKey(roomId, userId), ConsistentRead: true }));
    return Item?.present === true;
  }

  /** Present members, partition by partition; the cursor is `{shard, after}`. */
  async listMembers(roomId: number, limit: number, cursor?: { shard: number; after?: string }) {
    const items: { userId: string; joinedAt: number }[] = [];
    let shard = cursor?.shard ?? 0;
    let startKey: Record<string, string> | undefined = cursor?.after ? { pk: `ROOMMEM#${roomId}#${shard}`, sk: `MEMBER#${cursor.after}` } : undefined;
    while (shard < memberShards && items.length < limit) {
      const page: QueryCommandOutput = await this.db.doc.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: "pk = :pk",
          FilterExpression: "present = :true",
          ExpressionAttributeValues: { ":pk": `ROOMMEM#${roomId}#${shard}`, ":true": true },
          Limit: limit - items.length,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) items.push({ userId: String(item.userId), joinedAt: Number(item.joinedAt) });
      if (page.LastEvaluatedKey) {
        startKey = page.LastEvaluatedKey as Record<string, string>;
      } else {
        shard++;
        startKey = undefined;
      }
    }
    const next = shard < memberShards ? { shard, after: startKey ? String(startKey.sk).slice("MEMBER#".length) : undefined } : undefined;
    return { items, next };
  }

  /**
   * Likes are an ADD, which a repeat would count twice: written as a one-item transaction, whose
   * token makes a repeat after a lost answer count once. A 2xx counted exactly once; a 503 may or
   * may not have counted (README "Likes").
   */
  async addLikes(roomId: number, count: number): Promise<void> {
    const shard = Math.floor(Math.random() * counterShards);
    await this.transact([counterUpdate(this.table, counterKey(roomId, shard), { likes: count })]);
  }

  /** Live rooms newest first (one index partition, written only at live and close). */
  async listNew(limit: number, after?: string): Promise<{ roomIds: number[]; next?: string }> {
    const page = await this.db.doc.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: "gsi2",
        KeyConditionExpression: after ? "gsi2pk = :pk AND gsi2sk < :after" : "gsi2pk = :pk",
        ExpressionAttributeValues: { ":pk": "LIVE", ...(after ? { ":after": after } : {}) },
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    const items = page.Items ?? [];
    const last = items.at(-1);
    return { roomIds: items.map((item) => roomIdOf(item)), next: page.LastEvaluatedKey && last ? String(last.gsi2sk) : undefined };
  }

  /** Live rooms hottest first: the top of every hot partition, merged. */
  async listHot(limit: number, after?: string): Promise<{ roomIds: number[]; next?: string }> {
    const pages = await Promise.all(
      Array.from({ length: hotShards }, (_, shard) =>
        this.db.doc.send(
          new QueryCommand({
            TableName: this.table,
            IndexName: "gsi3",
            KeyConditionExpression: after ? "gsi3pk = :pk AND gsi3sk < :after" : "gsi3pk = :pk",
            ExpressionAttributeValues: { ":pk": `HOT#${shard}`, ...(after ? { ":after": after } : {}) },
            ScanIndexForward: false,
            Limit: limit,
          }),
        ),
      ),
    );
    const merged = pages.flatMap((page) => page.Items ?? []).sort((a, b) => (String(a.gsi3sk) < String(b.gsi3sk) ? 1 : -1));
    const more = merged.length > limit || pages.some((page) => page.LastEvaluatedKey);
    const chosen = merged.slice(0, limit);
    return { roomIds: chosen.map((item) => roomIdOf(item)), next: more && chosen.length > 0 ? String(chosen.at(-1)!.gsi3sk) : undefined };
  }

  async getRooms(roomIds: number[]): Promise<Room[]> {
    const items = await batchGet(this.db, roomIds.map(roomKey));
    const byId = new Map(items.map((item) => [Number(item.roomId), toRoom(item)]));
    return roomIds.flatMap((roomId) => byId.get(roomId) ?? []);
  }

  async putInvitation(roomId: number, userId: string, expiresAtMs: number): Promise<void> {
    await this.db.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: { ...inviteKey(roomId, userId), type: "invitation", roomId, userId, expiresAt: expiresAtMs, ttl: Math.ceil(expiresAtMs / 1000) + 3600 },
      }),
    );
  }

  async deleteInvitation(roomId: number, userId: string): Promise<void> {
    await this.db.doc.send(new DeleteCommand({ TableName: this.table, Key: inviteKey(roomId, userId) }));
  }

  /**
   * Rooms waiting in a gsi1 partition family (`HB` live by heartbeat, `HBC` created by creation,
   * `STREAMGONE` stream ended) since before `beforeMs`: reads only those, never the rest.
   */
  async roomsDueIn(family: "HB" | "HBC" | "STREAMGONE", beforeMs: number, limitPerShard = 100): Promise<{ roomIds: number[]; itemsRead: number }> {
    const pages = await Promise.all(
      Array.from({ length: heartbeatShards }, (_, shard) =>
        this.db.doc.send(
          new QueryCommand({
            TableName: this.table,
            IndexName: "gsi1",
            KeyConditionExpression: "gsi1pk = :pk AND gsi1sk < :before",
            ExpressionAttributeValues: { ":pk": `${family}#${shard}`, ":before": orderKey(beforeMs, 0) },
            Limit: limitPerShard,
          }),
        ),
      ),
    );
    const items = pages.flatMap((page) => page.Items ?? []);
    return { roomIds: items.map((item) => Number(String(item.gsi1sk).split("#")[1])), itemsRead: items.length };
  }

  /**
   * The CSS stream of a room began or ended. Out-of-order events are ignored (event time); an
   * end on a live room leaves a marker the sweeper finds after the grace period, a begin removes it.
   */
  async recordStreamEvent(room: Room, active: boolean, eventTimeMs: number): Promise<boolean> {
    const marker = active
      ? { Delete: { TableName: this.table, Key: streamGoneKey(room.roomId) } }
      : {
          Put: {
            TableName: this.table,
            Item: {
              ...streamGoneKey(room.roomId),
              type: "stream_gone",
              roomId: room.roomId,
              endedAt: eventTimeMs,
              gsi1pk: `STREAMGONE#${shardOf(String(room.roomId), heartbeatShards)}`,
              gsi1sk: orderKey(eventTimeMs, room.roomId),
              ttl: Math.floor(eventTimeMs / 1000) + 7 * 86_400,
            },
          },
        };
    const outcome = await this.transact([
      {
        Update: {
          TableName: this.table,
          Key: roomKey(room.roomId),
          UpdateExpression: "SET streamState = :state, streamChangedAt = :at",
          ConditionExpression: "streamId = :stream AND (attribute_not_exists(streamChangedAt) OR streamChangedAt <= :at)",
          ExpressionAttributeValues: { ":state": active ? "active" : "inactive", ":at": eventTimeMs, ":stream": room.streamId },
        },
      },
      ...(active || room.status === "live" ? [marker] : []),
    ]);
    return outcome === "ok";
  }

  async deleteStreamMarker(roomId: number): Promise<void> {
    await this.db.doc.send(new DeleteCommand({ TableName: this.table, Key: streamGoneKey(roomId) }));
  }

  /**
   * Write items in one transaction (the shared helper: conflicts retried, a lost answer resolved
   * by repeating it); `conflict` when a condition failed. Items still contended at the deadline
   * are 409 `store_busy`, an outcome still unknown is 503: the caller retries, every write here
   * is conditional or idempotent.
   */
  async transact(items: TransactItem[]): Promise<"ok" | "conflict"> {
    try {
      const result = await transact(this.db, Object.fromEntries(items.map((item, index) => [String(index), item])));
      if (result.ok) return "ok";
      if (result.failed.length > 0) return "conflict";
      throw new ConflictError("store_busy", "the room is busy with other changes; retry shortly", { "retry-after": "1" });
    } catch (error) {
      if (isUnresolvedWrite(error)) throw new StoreUnavailableError(error);
      throw error;
    }
  }
}

/**
 * `closingAt` on every counter shard of the room, for the transaction that starts its close:
 * gifts are refused on the shard they add to, so none lands after the close reads the shards.
 */
export function closingStamps(table: string, roomId: number, closingAt: number): TransactItem[] {
  return Array.from({ length: counterShards }, (_, shard) => ({
    Update: {
      TableName: table,
      Key: counterKey(roomId, shard),
      UpdateExpression: "SET #type = :type, closingAt = if_not_exists(closingAt, :closingAt)",
      ExpressionAttributeNames: { "#type": "type" },
      ExpressionAttributeValues: { ":type": "room_counter", ":closingAt": closingAt },
    },
  }));
}

/** An ADD of some counters on one shard, as a transaction item. */
export function counterUpdate(table: string, key: Record<string, string>, add: Partial<Record<(typeof counterFields)[number], number>>) {
  const entries = Object.entries(add);
  return {
    Update: {
      TableName: table,
      Key: key,
      UpdateExpression: `SET #type = :type ADD ${entries.map(([field]) => `#${field} :${field}`).join(", ")}`,
      ExpressionAttributeNames: { "#type": "type", ...Object.fromEntries(entries.map(([field]) => [`#${field}`, field])) },
      ExpressionAttributeValues: { ":type": "room_counter", ...Object.fromEntries(entries.map(([field, value]) => [`:${field}`, value])) },
    },
  };
}

/** Removes the room from every index: a closed room is in no list and no sweep. */
export const closeIndexAttributes = "gsi1pk, gsi1sk, gsi2pk, gsi2sk, gsi3pk, gsi3sk";

function roomIdOf(item: Record<string, unknown>): number {
  return Number(String(item.pk).slice("ROOM#".length));
}

function prefixed<T extends Record<string, string>>(values: T, names: Record<keyof T, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).map(([field, value]) => [names[field as keyof T], value]));
}
