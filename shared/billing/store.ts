import { QueryCommand } from "../db/commands.js";
import { batchGet, isStoreUnavailable, transact, type Db, type TransactItem } from "../db/index.js";
import { getRecord, idempotencyKey, recordPut, type IdempotencyRecord } from "../idempotency/index.js";
import { outboxSettleItem } from "../outbox/index.js";
import { padded } from "../rooms/domain.js";
import type { Gift } from "./catalog.js";
import {
  earningShards,
  earningsKey,
  giftMovementItems,
  leaderboardShards,
  ledgerPut,
  ledgerShards,
  movementId,
  walletKey,
  type GiftCharge,
  type LedgerEntry,
} from "./items.js";

export { earningShards, ledgerShards, movementId, type GiftCharge, type LedgerEntry } from "./items.js";

/**
 * DynamoDB access for money (keys in `items.ts` and README "Data model"). Every movement is one
 * transaction: the balances it changes, both ledger entries and the idempotency record, so the
 * ledger always sums to the balances and a retry never bills twice.
 */

export function chargeFor(gift: Gift, count: number, senderId: string, hostId: string, roomId: number): GiftCharge {
  return { senderId, hostId, roomId, giftId: gift.giftId, count, amount: gift.price * count, heat: gift.heat * count };
}

export type BillOutcome =
  | { outcome: "billed"; ledgerId: string }
  | { outcome: "duplicate"; record: IdempotencyRecord | undefined }
  | { outcome: "insufficient_balance" }
  | { outcome: "room_not_live" }
  | { outcome: "contended" };

/** What IM's delivery report found: the charge made final, or why there was none to make final. */
export type DeliveryOutcome = "confirmed" | "already_confirmed" | "refunded_before_confirmation" | "never_charged";

export class WalletStore {
  constructor(readonly db: Db) {}

  /**
   * Bill a gift in one transaction, on the condition that its room is live and hosted by the
   * charge's host: the money items, the idempotency record and, when given, the outbox entries
   * written beside it (the gift message, a callback gift's refund). Throws `UnresolvedWriteError`
   * when the outcome is still unknown at `deadlineMs`.
   */
  async bill(charge: GiftCharge, record: Omit<IdempotencyRecord, "charge">, alongside: Record<string, TransactItem> = {}, deadlineMs?: number): Promise<BillOutcome> {
    const ledgerId = movementId(record.scope, record.createdAt);
    const movement = giftMovementItems(this.db.table, charge, ledgerId, record.createdAt, 1, record.scope);
    const result = await transact(
      this.db,
      {
        record: recordPut(this.db, { ...record, charge }),
        ...movement,
        // Not in a room being closed: its close stamps `closingAt` on every counter shard before
        // it reads them. Checked on the shard this gift adds to, never on the room item, which a
        // hot room's gifts would all contend on. (That the room is live and whose it is comes
        // from the room read: a room never goes back to live, and its host never changes.)
        counters: { Update: { ...movement.counters.Update, ConditionExpression: "attribute_not_exists(closingAt)" } },
        ...alongside,
      },
      { deadlineMs },
    );
    if (result.ok) return { outcome: "billed", ledgerId };
    if (result.failed.includes("record")) return { outcome: "duplicate", record: (result.old.record as IdempotencyRecord | undefined) ?? (await getRecord(this.db, record.scope)) };
    if (result.failed.includes("counters")) return { outcome: "room_not_live" };
    if (result.failed.includes("wallet")) return { outcome: "insufficient_balance" };
    return { outcome: "contended" };
  }

  /**
   * IM delivered a callback gift's message: `charged` → `delivered`, and its refund is called
   * off, in one transaction. A refund that ran first (its window passed) or a charge that never
   * committed is reported, not undone: the ledger stays as it is.
   */
  async confirmDelivery(scope: string, deadlineMs: number): Promise<DeliveryOutcome> {
    const record = await untilDeadline(() => getRecord(this.db, scope), deadlineMs);
    if (!record) return "never_charged";
    if (record.status === "delivered" || record.status === "allowed") return "already_confirmed";
    if (record.status !== "charged") return "refunded_before_confirmation";
    const items: Record<string, TransactItem> = {
      record: {
        Update: {
          TableName: this.db.table,
          Key: idempotencyKey(scope),
          UpdateExpression: "SET #status = :delivered",
          ConditionExpression: "#status = :charged",
          ExpressionAttributeNames: { "#status": "status" },
          ExpressionAttributeValues: { ":delivered": "delivered", ":charged": "charged" },
        },
      },
    };
    // A refund the sweeper has claimed is still pending: settling it here makes its run find nothing to refund.
    if (record.outboxEntryId) items.refund = outboxSettleItem(this.db, record.outboxEntryId, Date.now());
    const result = await transact(this.db, items, { deadlineMs });
    if (result.ok) return "confirmed";
    // The record moved: a refund won the race, or this very report landed on a try whose answer was lost.
    if (result.failed.includes("record")) return (await untilDeadline(() => getRecord(this.db, scope), deadlineMs))?.status === "delivered" ? "confirmed" : "refunded_before_confirmation";
    throw new Error("the delivery confirmation stayed contended; IM's retry reports it again");
  }

  /** Admin top-up: balance, ledger entry and idempotency record in one transaction. */
  async credit(userId: string, amount: number, reason: string, record: IdempotencyRecord): Promise<BillOutcome> {
    const ledgerId = movementId(record.scope, record.createdAt);
    const result = await transact(this.db, {
      record: recordPut(this.db, record),
      wallet: {
        Update: {
          TableName: this.db.table,
          Key: walletKey(userId),
          UpdateExpression: "SET #type = :type, userId = :user ADD balance :amount",
          ExpressionAttributeNames: { "#type": "type" },
          ExpressionAttributeValues: { ":amount": amount, ":type": "wallet", ":user": userId },
        },
      },
      ledger: ledgerPut(this.db.table, userId, { entryId: `${ledgerId}-c`, kind: "credit", account: "balance", amount, reason, createdAt: record.createdAt }),
    });
    if (result.ok) return { outcome: "billed", ledgerId };
    if (result.failed.includes("record")) return { outcome: "duplicate", record: (result.old.record as IdempotencyRecord | undefined) ?? (await getRecord(this.db, record.scope)) };
    return { outcome: "contended" };
  }

  /** Balance and the sum of every earnings shard, in one BatchGetItem. */
  async wallet(userId: string): Promise<{ balance: number; earnings: number }> {
    const items = await batchGet(this.db, [walletKey(userId), ...Array.from({ length: earningShards }, (_, shard) => earningsKey(userId, shard))], true);
    return {
      balance: Number(items.find((item) => item.sk === "WALLET")?.balance ?? 0),
      earnings: items.filter((item) => item.sk === "EARN").reduce((sum, item) => sum + Number(item.earnings ?? 0), 0),
    };
  }

  /** Ledger entries newest first: the newest of every shard, merged; `before` is the last sort key seen. */
  async ledger(userId: string, limit: number, before?: string): Promise<{ entries: LedgerEntry[]; next?: string }> {
    const pages = await Promise.all(
      Array.from({ length: ledgerShards }, (_, shard) =>
        this.db.doc.send(
          new QueryCommand({
            TableName: this.db.table,
            KeyConditionExpression: before ? "pk = :pk AND sk < :before" : "pk = :pk",
            ExpressionAttributeValues: { ":pk": `LEDGER#${userId}#${shard}`, ...(before ? { ":before": before } : {}) },
            ScanIndexForward: false,
            Limit: limit,
          }),
        ),
      ),
    );
    const merged = pages.flatMap((page) => page.Items ?? []).sort((a, b) => (String(a.sk) < String(b.sk) ? 1 : -1));
    const chosen = merged.slice(0, limit);
    const more = merged.length > limit || pages.some((page) => page.LastEvaluatedKey);
    return { entries: chosen.map(toLedgerEntry), next: more && chosen.length > 0 ? String(chosen.at(-1)!.sk) : undefined };
  }

  /**
   * The idempotency records behind the user's gift charges since `sinceMs` (found through the
   * scope on each charge's ledger entry), for the wallet audit.
   */
  async chargeRecordsSince(userId: string, sinceMs: number): Promise<Record<string, unknown>[]> {
    const shardScopes = async (shard: number) => {
      const found: string[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const page = await this.db.doc.send(
          new QueryCommand({
            TableName: this.db.table,
            KeyConditionExpression: "pk = :pk AND sk > :since",
            FilterExpression: "attribute_exists(#scope)",
            ProjectionExpression: "#scope",
            ExpressionAttributeNames: { "#scope": "scope" },
            ExpressionAttributeValues: { ":pk": `LEDGER#${userId}#${shard}`, ":since": padded(sinceMs) },
            ExclusiveStartKey: start,
          }),
        );
        found.push(...(page.Items ?? []).map((item) => String(item.scope)));
        start = page.LastEvaluatedKey;
      } while (start);
      return found;
    };
    const pages = await Promise.all(Array.from({ length: ledgerShards }, (_, shard) => shardScopes(shard)));
    const scopes = new Set(pages.flat());
    return batchGet(this.db, [...scopes].map(idempotencyKey), true);
  }

  /** Every ledger entry of a user (tests and audits: the ledger must sum to the balances). */
  async allLedgerEntries(userId: string): Promise<LedgerEntry[]> {
    const entries: LedgerEntry[] = [];
    let before: string | undefined;
    do {
      const page = await this.ledger(userId, 100, before);
      entries.push(...page.entries);
      before = page.next;
    } while (before);
    return entries;
  }

  /** Top gifters of a room by coins: the top of each leaderboard partition, merged. */
  async leaderboard(roomId: number, limit: number): Promise<{ userId: string; coins: number }[]> {
    const pages = await Promise.all(
      Array.from({ length: leaderboardShards }, (_, shard) =>
        this.db.doc.send(
          new QueryCommand({
            TableName: this.db.table,
            IndexName: "gsi4",
            KeyConditionExpression: "gsi4pk = :pk AND gsi4sk > :zero",
            ExpressionAttributeValues: { ":pk": `LEADER#${roomId}#${shard}`, ":zero": 0 },
            ScanIndexForward: false,
            Limit: limit,
          }),
        ),
      ),
    );
    return pages
      .flatMap((page) => page.Items ?? [])
      .map((item) => ({ userId: String(item.pk).split("#")[2]!, coins: Number(item.gsi4sk) }))
      .sort((a, b) => b.coins - a.coins || (a.userId < b.userId ? -1 : 1))
      .slice(0, limit);
  }
}

/** A read retried (the SDK's own retries included) until it answers or the deadline passes; then its last error. */
async function untilDeadline<T>(read: () => Promise<T>, deadlineMs: number): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await read();
    } catch (error) {
      if (!isStoreUnavailable(error) || Date.now() + 50 >= deadlineMs) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.min(200, 20 * 2 ** attempt)));
    }
  }
}

function toLedgerEntry(item: Record<string, unknown>): LedgerEntry {
  const { entryId, kind, account, amount, createdAt, roomId, giftId, count, counterparty, reason } = item as unknown as LedgerEntry;
  return { entryId, kind, account, amount, createdAt, roomId, giftId, count, counterparty, reason };
}
