import { randomUUID } from "node:crypto";
import { GetCommand, QueryCommand, UpdateCommand } from "../db/commands.js";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { batchGet, isConditionFailed, transact, ttlAttribute, type Db, type TransactItem } from "../db/index.js";
import { padded, shardOf } from "../rooms/domain.js";
import type { MsgPriority } from "../tencent/index.js";
import type { GiftsMessage, PendingGift } from "./message.js";

/**
 * DynamoDB access for room broadcasts. Keys (README "Data model"):
 *
 * - pending gift  pk `BCAST#<roomId>#<0-3>`   sk `<createdAt>#<giftKey>`   written by the gift's charge, deleted once broadcast;
 *                 gsi1 `BCASTDUE#<0-15>` / `<createdAt + leftoverAfterMs>#<roomId>#<groupId>`, where the sweeper finds leftovers
 * - flush state   pk `BCAST#<roomId>`         sk `FLUSH`                   { version, owner, leaseUntil, nextSendAt, intervalMs, inflight, refusals }, TTL a week after the last flush
 *
 * Pending gifts are sharded by gift, so a room taking 1,000 gifts/s puts 250 Puts (in the
 * charge's transaction: 500 write units) and 250 Deletes a second on each key, under DynamoDB's
 * 1,000 per partition; the flush state is written once per message that gets through, never per gift.
 * The leftover index takes every room's gifts (a Put and a Delete each): 16 keys keep 2,000
 * gifts/s app-wide at 250 index writes/s per key.
 */
export const giftShards = 4;
export const leftoverShards = 16;
/** A pending gift older than this is a leftover: its flusher died or IM refused it; the sweeper sends it. */
export const leftoverAfterMs = 3_000;

export const pendingGiftKey = (roomId: number, giftKey: string, createdAt: number) => ({
  pk: `BCAST#${roomId}#${shardOf(giftKey, giftShards)}`,
  sk: `${padded(createdAt)}#${giftKey}`,
});
/**
 * How long a message's gift deletes may take before its flusher records it as delivered instead.
 * In a transaction, not a BatchWrite: DynamoDB Local serves BatchWrite items one by one behind
 * the charges' transactions (seconds in a busy room), and a message's gifts leave together.
 */
const deleteBudgetMs = 1_000;
/** A room's flush state outlives its last flush by this long (TTL). */
const flushStateTtlSeconds = 7 * 86_400;

export const flushStateKey = (roomId: number) => ({ pk: `BCAST#${roomId}`, sk: "FLUSH" });

/** A message being sent or last sent: kept on the flush state until the next one replaces it, so a takeover resends exactly it. */
export interface InflightBatch {
  id: string;
  random: number;
  message: GiftsMessage;
  priority: MsgPriority;
  /** Sort keys of the pending gifts it carries. */
  gifts: string[];
  /** IM accepted it and its gifts' deletes failed: whoever finds it deletes them and never resends it (IM keeps one copy only for 5 minutes). */
  delivered?: boolean;
}

/**
 * The room's flush state. Every write is conditioned on `version`, the one it read, and sets the
 * next: so what a flusher decided from a read (which gifts a message carries, that the last one
 * is settled) still holds when its write lands, without trusting any instance's clock.
 */
export interface FlushState {
  version?: number;
  /** The flusher holding `inflight` until `leaseUntil`: a crashed one's message is taken over after that. */
  owner?: string;
  leaseUntil?: number;
  nextSendAt?: number;
  intervalMs?: number;
  /** The last message: settled once none of its gifts is pending. */
  inflight?: InflightBatch;
  /** IM's refusals in a row, other than its frequency limits: a message refused this often is given up. */
  refusals?: number;
}

/** The settable part of the flush state (`version` is the store's). */
export type FlushChange = Omit<FlushState, "version" | "inflight"> & { inflight?: InflightBatch | null };

export type Written = { ok: true; version: number } | { ok: false; current: FlushState | undefined };

/** Pending gifts as read, and which sort keys the read covered (a covered key it did not return is gone). */
export interface PendingRead {
  gifts: PendingGift[];
  covers(sk: string): boolean;
}

/** The gift key in a pending gift's sort key `<createdAt>#<giftKey>`. */
export const giftKeyOfSk = (sk: string) => sk.slice(sk.indexOf("#") + 1);
const createdAtOfSk = (sk: string) => Number(sk.slice(0, sk.indexOf("#")));
const shardOfSk = (sk: string) => shardOf(giftKeyOfSk(sk), giftShards);
const pendingKeyOfSk = (roomId: number, sk: string) => ({ pk: `BCAST#${roomId}#${shardOfSk(sk)}`, sk });

export class BroadcastStore {
  constructor(readonly db: Db) {}

  /** The Put of a billed gift's pending broadcast, for the charge's own transaction. */
  pendingGiftPut(roomId: number, groupId: string, gift: PendingGift): TransactItem {
    return {
      Put: {
        TableName: this.db.table,
        Item: {
          ...pendingGiftKey(roomId, gift.giftKey, gift.createdAt),
          type: "pending_gift",
          roomId,
          from: gift.from,
          giftId: gift.giftId,
          count: gift.count,
          value: gift.value,
          gsi1pk: `BCASTDUE#${shardOf(gift.giftKey, leftoverShards)}`,
          gsi1sk: `${padded(gift.createdAt + leftoverAfterMs)}#${roomId}#${groupId}`,
        },
      },
    };
  }

  /** The room's flush state, strongly consistent (undefined: never flushed, or expired). */
  async flushState(roomId: number): Promise<FlushState | undefined> {
    const { Item } = await this.db.doc.send(new GetCommand({ TableName: this.db.table, Key: flushStateKey(roomId), ConsistentRead: true }));
    return Item as FlushState | undefined;
  }

  /**
   * Change the flush state if it is still at `seen` (undefined: no state yet). Refused, it
   * answers the current state, so the caller decides again without another read. A write whose
   * answer was lost and that the SDK repeated finds its own mark and counts as done.
   */
  async write(roomId: number, seen: number | undefined, change: FlushChange, nowMs: number): Promise<Written> {
    const mark = randomUUID();
    const version = (seen ?? 0) + 1;
    const values: Record<string, unknown> = { ":version": version, ":mark": mark, ":type": "broadcast_flush", ":ttl": Math.floor(nowMs / 1000) + flushStateTtlSeconds };
    const names: Record<string, string> = { "#ttl": ttlAttribute, "#type": "type", "#mark": "writeMark" };
    const set = ["version = :version", "#mark = :mark", "#type = :type", "#ttl = :ttl"];
    const remove: string[] = [];
    for (const [field, value] of Object.entries(change)) {
      if (value === undefined) continue;
      names[`#${field}`] = field;
      if (value === null) remove.push(`#${field}`);
      else {
        values[`:${field}`] = value;
        set.push(`#${field} = :${field}`);
      }
    }
    if (seen !== undefined) values[":seen"] = seen;
    try {
      await this.db.doc.send(
        new UpdateCommand({
          TableName: this.db.table,
          Key: flushStateKey(roomId),
          // A room no one gifts in any more lets its flush state expire.
          UpdateExpression: `SET ${set.join(", ")}${remove.length > 0 ? ` REMOVE ${remove.join(", ")}` : ""}`,
          ConditionExpression: seen === undefined ? "attribute_not_exists(version)" : "version = :seen",
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        }),
      );
      return { ok: true, version };
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
      const old = (error as { Item?: Record<string, never> }).Item;
      const current = old ? (unmarshall(old) as FlushState & { writeMark?: string }) : undefined;
      if (current?.writeMark === mark) return { ok: true, version };
      return { ok: false, current };
    }
  }

  /**
   * The room's pending gifts, oldest first per shard: strongly consistent, so a committed charge
   * is seen. `covers` tells which sort keys the read went past: a shard read to its end covers
   * all, a shard cut at `limitPerShard` covers up to its last key.
   */
  async pending(roomId: number, limitPerShard: number): Promise<PendingRead> {
    const pages = await Promise.all(
      Array.from({ length: giftShards }, (_, shard) =>
        this.db.doc.send(
          new QueryCommand({
            TableName: this.db.table,
            KeyConditionExpression: "pk = :pk",
            ExpressionAttributeValues: { ":pk": `BCAST#${roomId}#${shard}` },
            ConsistentRead: true,
            Limit: limitPerShard,
          }),
        ),
      ),
    );
    const readUpTo = pages.map((page) => (page.LastEvaluatedKey ? String(page.LastEvaluatedKey.sk) : undefined));
    return {
      gifts: pages.flatMap((page) =>
        (page.Items ?? []).map((item) => ({
          giftKey: giftKeyOfSk(String(item.sk)),
          from: String(item.from),
          giftId: String(item.giftId),
          count: Number(item.count),
          value: Number(item.value),
          createdAt: createdAtOfSk(String(item.sk)),
        })),
      ),
      covers: (sk) => {
        const upTo = readUpTo[shardOfSk(sk)];
        return upTo === undefined || sk <= upTo;
      },
    };
  }

  /**
   * Which of the sort keys `sks` are still pending: from `read` where it covers them, else read
   * by key (strongly consistent). Without `read`, all by key: a look at one message's gifts.
   */
  async stillPending(roomId: number, sks: readonly string[], read?: PendingRead): Promise<string[]> {
    const seen = new Set(read?.gifts.map((gift) => pendingGiftKey(roomId, gift.giftKey, gift.createdAt).sk));
    const uncovered = read ? sks.filter((sk) => !read.covers(sk)) : sks;
    if (uncovered.length > 0) for (const item of await batchGet(this.db, uncovered.map((sk) => pendingKeyOfSk(roomId, sk)), true)) seen.add(String(item.sk));
    return sks.filter((sk) => seen.has(sk));
  }

  /** Whether any gift of the room still waits for its broadcast. */
  async hasPending(roomId: number): Promise<boolean> {
    return (await this.pending(roomId, 1)).gifts.length > 0;
  }

  /**
   * Delete a message's gifts, the message's settle: all or none, in one transaction per 100
   * (deleting twice is harmless). Throws when DynamoDB did not commit by `deadlineMs`.
   */
  async deleteGifts(roomId: number, sortKeys: readonly string[], deadlineMs = Date.now() + deleteBudgetMs): Promise<void> {
    const chunks = Array.from({ length: Math.ceil(sortKeys.length / 100) }, (_, i) => sortKeys.slice(i * 100, i * 100 + 100));
    // Side by side: a big message's deletes must not hold the room's next one.
    await Promise.all(
      chunks.map(async (chunk) => {
        const items: Record<string, TransactItem> = {};
        chunk.forEach((sk, i) => (items[`gift${i}`] = { Delete: { TableName: this.db.table, Key: pendingKeyOfSk(roomId, sk) } }));
        // No conditions: a refusal means the items stayed contended past the deadline, nothing deleted.
        if (!(await transact(this.db, items, { deadlineMs })).ok) throw new Error("the pending gifts' deletes stayed contended past their deadline");
      }),
    );
  }

  /**
   * Rooms with a leftover gift (pending past `leftoverAfterMs`), paging each index partition so
   * one room with many stuck gifts cannot hide the others (up to `maxPagesPerShard` pages).
   */
  async roomsWithLeftovers(nowMs: number, limitPerPage = 100, maxPagesPerShard = 20): Promise<{ roomId: number; groupId: string }[]> {
    const rooms = new Map<number, string>();
    await Promise.all(
      Array.from({ length: leftoverShards }, async (_, shard) => {
        let start: Record<string, unknown> | undefined;
        for (let page = 0; page < maxPagesPerShard; page++) {
          const result = await this.db.doc.send(
            new QueryCommand({
              TableName: this.db.table,
              IndexName: "gsi1",
              KeyConditionExpression: "gsi1pk = :pk AND gsi1sk < :now",
              ExpressionAttributeValues: { ":pk": `BCASTDUE#${shard}`, ":now": padded(nowMs) },
              ProjectionExpression: "gsi1sk",
              Limit: limitPerPage,
              ExclusiveStartKey: start,
            }),
          );
          for (const item of result.Items ?? []) {
            const [, roomId, groupId] = String(item.gsi1sk).split("#");
            rooms.set(Number(roomId), String(groupId));
          }
          start = result.LastEvaluatedKey;
          if (!start) break;
        }
      }),
    );
    return [...rooms].map(([roomId, groupId]) => ({ roomId, groupId }));
  }
}
