import { BatchWriteCommand, GetCommand, QueryCommand, UpdateCommand, type BatchWriteCommandOutput } from "../db/commands.js";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { isConditionFailed, isStoreUnavailable, isUnresolvedWrite, transact, ttlAttribute, type Db, type TransactItem } from "../db/index.js";
import { padded, shardOf } from "../rooms/domain.js";
import type { MsgPriority } from "../tencent/index.js";
import type { GiftsMessage, PendingGift } from "./message.js";

/**
 * DynamoDB access for room broadcasts. Keys (README "Data model"):
 *
 * - pending gift  pk `BCAST#<roomId>#<0-3>`   sk `<createdAt>#<giftKey>`   written by the gift's charge, deleted once broadcast;
 *                 gsi1 `BCASTDUE#<0-15>` / `<createdAt + leftoverAfterMs>#<roomId>#<groupId>`, where the sweeper finds leftovers
 * - flush state   pk `BCAST#<roomId>`         sk `FLUSH`                   { owner, leaseUntil, nextSendAt, intervalMs, inflight }, TTL a week after the last flush
 *
 * Pending gifts are sharded by gift, so a room taking 1,000 gifts/s puts 250 Puts (in the
 * charge's transaction: 500 write units) and 250 Deletes a second on each key, under DynamoDB's
 * 1,000 per partition; the flush state is written a few times per message, never per gift.
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
/** A room's flush state outlives its last flush by this long (TTL). */
const flushStateTtlSeconds = 7 * 86_400;

export const flushStateKey = (roomId: number) => ({ pk: `BCAST#${roomId}`, sk: "FLUSH" });

/** A message carrying at most this many gifts is settled in one transaction with their deletes (DynamoDB takes 100 items). */
export const maxGiftsSettledAtOnce = 99;

type Settle = { nextSendAt: number; intervalMs: number };

/** A message being sent: kept on the flush state until it is settled, so a takeover resends exactly it. */
export interface InflightBatch {
  id: string;
  random: number;
  message: GiftsMessage;
  priority: MsgPriority;
  /** Sort keys of the pending gifts it carries. */
  gifts: string[];
  /** IM accepted it: whoever settles it deletes its gifts and never resends it (IM keeps one copy only for 5 minutes). */
  delivered?: boolean;
}

export interface FlushState {
  owner?: string;
  leaseUntil?: number;
  nextSendAt?: number;
  intervalMs?: number;
  inflight?: InflightBatch;
  /** IM's refusals in a row, other than its frequency limits: a message refused this often is given up. */
  refusals?: number;
}

/** The gift key in a pending gift's sort key `<createdAt>#<giftKey>`. */
export const giftKeyOfSk = (sk: string) => sk.slice(sk.indexOf("#") + 1);
const createdAtOfSk = (sk: string) => Number(sk.slice(0, sk.indexOf("#")));
const pendingKeyOfSk = (roomId: number, sk: string) => ({ pk: `BCAST#${roomId}#${shardOf(giftKeyOfSk(sk), giftShards)}`, sk });

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

  /**
   * Take the room's flush lease: only when no other flusher holds it and the room's next send is
   * due. Otherwise the time to try again (`retryAt`): the next send, and at least `retryMs`
   * (the room's interval) away while another flusher holds it.
   */
  async acquire(roomId: number, owner: string, nowMs: number, leaseMs: number, retryMs: number): Promise<{ state: FlushState } | { retryAt: number }> {
    try {
      const { Attributes } = await whileTransactionHolds(() =>
        this.db.doc.send(
          new UpdateCommand({
            TableName: this.db.table,
            Key: flushStateKey(roomId),
            // A room no one gifts in any more lets its flush state expire.
            UpdateExpression: "SET #owner = :owner, leaseUntil = :until, #type = :type, #ttl = :ttl",
            // Or still ours: the SDK repeating a request whose answer was lost finds it taken by us.
            ConditionExpression: "(#owner = :owner AND leaseUntil >= :now) OR ((attribute_not_exists(leaseUntil) OR leaseUntil < :now) AND (attribute_not_exists(nextSendAt) OR nextSendAt <= :now))",
            ExpressionAttributeNames: { "#owner": "owner", "#type": "type", "#ttl": ttlAttribute },
            ExpressionAttributeValues: { ":owner": owner, ":until": nowMs + leaseMs, ":now": nowMs, ":type": "broadcast_flush", ":ttl": Math.floor(nowMs / 1000) + flushStateTtlSeconds },
            ReturnValues: "ALL_NEW",
            ReturnValuesOnConditionCheckFailure: "ALL_OLD",
          }),
        ),
      );
      return { state: Attributes as FlushState };
    } catch (error) {
      // Still in another flusher's settle transaction: its turn, as if its lease were seen.
      if (isTransactionConflict(error)) return { retryAt: nowMs + retryMs };
      if (!isConditionFailed(error)) throw error;
      const old = (error as { Item?: Record<string, never> }).Item;
      return { retryAt: nextTurnAt(old ? (unmarshall(old) as FlushState) : undefined, nowMs, retryMs) };
    }
  }

  /**
   * When the room's lease could next be taken, read without writing (at or before `nowMs`: now).
   * A flusher that was refused the lease looks before it asks again, so the instances waiting on
   * a busy room read instead of each spending a refused conditional write per message.
   */
  async nextTurn(roomId: number, nowMs: number, retryMs: number): Promise<number> {
    const { Item } = await this.db.doc.send(
      new GetCommand({ TableName: this.db.table, Key: flushStateKey(roomId), ConsistentRead: true, ProjectionExpression: "leaseUntil, nextSendAt, intervalMs" }),
    );
    return Item ? nextTurnAt(Item as FlushState, nowMs, retryMs) : nowMs;
  }

  /** The room's pending gifts, oldest first per shard: strongly consistent, so a committed charge is seen. */
  async pending(roomId: number, limitPerShard: number): Promise<PendingGift[]> {
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
    return pages.flatMap((page) =>
      (page.Items ?? []).map((item) => ({
        giftKey: giftKeyOfSk(String(item.sk)),
        from: String(item.from),
        giftId: String(item.giftId),
        count: Number(item.count),
        value: Number(item.value),
        createdAt: createdAtOfSk(String(item.sk)),
      })),
    );
  }

  /** Whether any gift of the room still waits for its broadcast. */
  async hasPending(roomId: number): Promise<boolean> {
    return (await this.pending(roomId, 1)).length > 0;
  }

  /** Record the message about to be sent, under the lease; false when the lease was lost. */
  async startBatch(roomId: number, owner: string, batch: InflightBatch, nowMs: number, leaseMs: number): Promise<boolean> {
    return this.conditional({
      Key: flushStateKey(roomId),
      UpdateExpression: "SET inflight = :batch, leaseUntil = :until",
      ConditionExpression: "#owner = :owner AND attribute_not_exists(inflight)",
      ExpressionAttributeNames: { "#owner": "owner" },
      ExpressionAttributeValues: { ":batch": batch, ":owner": owner, ":until": nowMs + leaseMs },
    });
  }

  /** IM accepted the message `batchId`: recorded before its gifts are deleted, so a takeover settles it without resending. */
  async markDelivered(roomId: number, owner: string, batchId: string): Promise<boolean> {
    return this.conditional({
      Key: flushStateKey(roomId),
      UpdateExpression: "SET inflight.delivered = :true",
      ConditionExpression: "#owner = :owner AND inflight.id = :batch",
      ExpressionAttributeNames: { "#owner": "owner" },
      ExpressionAttributeValues: { ":true": true, ":owner": owner, ":batch": batchId },
    });
  }

  /**
   * Settle the message `batchId` and give the lease back: `keepBatch` leaves it to be resent as
   * it is (its fate at IM is unknown); `refused` counts an IM refusal in a row, any other
   * ending clears the count. False when another flusher settled it first.
   */
  async settleBatch(roomId: number, owner: string, batchId: string, next: Settle, options: { keepBatch?: boolean; refused?: boolean } = {}): Promise<boolean> {
    return this.conditional(settleUpdate(roomId, owner, batchId, next, options));
  }

  /**
   * IM took the message: its gifts' deletes and the settle commit together, so nothing has to be
   * recorded in between. False when the gifts do not fit one transaction, another flusher
   * settled it first, or DynamoDB would not commit in time: the caller then records the
   * delivery and settles step by step (each step is safe to repeat).
   */
  async settleDelivered(roomId: number, owner: string, batch: InflightBatch, next: Settle, deadlineMs: number): Promise<boolean> {
    if (batch.gifts.length > maxGiftsSettledAtOnce) return false;
    const items: Record<string, TransactItem> = { flush: { Update: { TableName: this.db.table, ...settleUpdate(roomId, owner, batch.id, next) } } };
    batch.gifts.forEach((sk, i) => (items[`gift${i}`] = { Delete: { TableName: this.db.table, Key: pendingKeyOfSk(roomId, sk) } }));
    try {
      return (await transact(this.db, items, { deadlineMs })).ok;
    } catch (error) {
      if (isUnresolvedWrite(error) || isStoreUnavailable(error)) return false;
      throw error;
    }
  }

  /** Give the lease back with nothing sent. */
  async release(roomId: number, owner: string): Promise<void> {
    await this.conditional({
      Key: flushStateKey(roomId),
      UpdateExpression: "SET leaseUntil = :zero",
      ConditionExpression: "#owner = :owner",
      ExpressionAttributeNames: { "#owner": "owner" },
      ExpressionAttributeValues: { ":zero": 0, ":owner": owner },
    });
  }

  /** Delete broadcast gifts (deleting twice is harmless), retrying what DynamoDB leaves unprocessed. */
  async deleteGifts(roomId: number, sortKeys: readonly string[]): Promise<void> {
    const requests = sortKeys.map((sk) => ({ DeleteRequest: { Key: pendingKeyOfSk(roomId, sk) } }));
    const chunks = Array.from({ length: Math.ceil(requests.length / 25) }, (_, i) => requests.slice(i * 25, i * 25 + 25));
    // Side by side: a big message's deletes must not hold the room's next one.
    await Promise.all(
      chunks.map(async (chunk) => {
        let pending: typeof requests | undefined = chunk;
        for (let attempt = 0; pending && pending.length > 0; attempt++) {
          if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 25 * 2 ** attempt)));
          const result: BatchWriteCommandOutput = await this.db.doc.send(new BatchWriteCommand({ RequestItems: { [this.db.table]: pending } }));
          pending = result.UnprocessedItems?.[this.db.table] as typeof requests | undefined;
        }
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

  private async conditional(input: Omit<ConstructorParameters<typeof UpdateCommand>[0], "TableName">): Promise<boolean> {
    try {
      await whileTransactionHolds(() => this.db.doc.send(new UpdateCommand({ TableName: this.db.table, ...input })));
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }
}

/** The update settling message `batchId` under `owner`'s lease (see `settleBatch`). */
function settleUpdate(roomId: number, owner: string, batchId: string, next: Settle, options: { keepBatch?: boolean; refused?: boolean } = {}) {
  return {
    Key: flushStateKey(roomId),
    UpdateExpression: `SET nextSendAt = :next, intervalMs = :interval, leaseUntil = :zero, refusals = ${options.refused ? "if_not_exists(refusals, :zero) + :one" : ":zero"}${options.keepBatch ? "" : " REMOVE inflight"}`,
    ConditionExpression: "#owner = :owner AND inflight.id = :batch",
    ExpressionAttributeNames: { "#owner": "owner" },
    ExpressionAttributeValues: { ":next": next.nextSendAt, ":interval": next.intervalMs, ":zero": 0, ":owner": owner, ":batch": batchId, ...(options.refused ? { ":one": 1 } : {}) },
  };
}

/**
 * When a flusher may ask for the lease, given the flush state it saw (`undefined`: it was refused
 * without seeing one): the next send, and at least `retryMs` (or the room's interval) away while
 * another flusher holds it, since a holder sets the next send an interval ahead when it is done.
 */
function nextTurnAt(state: FlushState | undefined, nowMs: number, retryMs: number): number {
  const held = state === undefined || Number(state.leaseUntil ?? 0) >= nowMs;
  return Math.max(Number(state?.nextSendAt ?? 0), held ? nowMs + Math.max(retryMs, Number(state?.intervalMs ?? 0)) : 0);
}

const isTransactionConflict = (error: unknown) => (error as { name?: string } | null)?.name === "TransactionConflictException";

/**
 * A write to the flush state that DynamoDB refuses because a transaction holds it (a flusher's
 * settle, which takes milliseconds) is tried again a few times before the error stands.
 */
async function whileTransactionHolds<T>(write: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      if (!isTransactionConflict(error) || attempt >= 4) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 20 * 2 ** attempt));
    }
  }
}
