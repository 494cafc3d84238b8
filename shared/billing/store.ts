import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import { batchGet, isUnresolvedWrite, transact, type Db, type TransactItem } from "../db/index.js";
import { getRecord, idempotencyKey, recordPut, type IdempotencyRecord } from "../idempotency/index.js";
import { outboxCancelItem, outboxRearmItem } from "../outbox/index.js";
import { roomKey } from "../rooms/index.js";
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

export class WalletStore {
  constructor(readonly db: Db) {}

  /**
   * Bill a gift in one transaction, on the condition that its room is live and hosted by the
   * charge's host: the money items, the idempotency record and, when given, the outbox entries
   * written beside it (the gift message, a callback gift's refund). Throws `UnresolvedWriteError`
   * when the outcome is still unknown at `deadlineMs`.
   */
  async bill(charge: GiftCharge, record: Omit<IdempotencyRecord, "charge">, alongside: Record<string, TransactItem> = {}, deadlineMs?: number): Promise<BillOutcome> {
    const ledgerId = movementId(record.scope);
    const result = await transact(
      this.db,
      {
        record: recordPut(this.db, { ...record, charge }),
        room: {
          ConditionCheck: {
            TableName: this.db.table,
            Key: roomKey(charge.roomId),
            ConditionExpression: "#status = :live AND hostId = :host",
            ExpressionAttributeNames: { "#status": "status" },
            ExpressionAttributeValues: { ":live": "live", ":host": charge.hostId },
          },
        },
        ...giftMovementItems(this.db.table, charge, ledgerId, record.createdAt, 1),
        ...alongside,
      },
      { deadlineMs },
    );
    if (result.ok) return { outcome: "billed", ledgerId };
    if (result.failed.includes("record")) return { outcome: "duplicate", record: (result.old.record as IdempotencyRecord | undefined) ?? (await getRecord(this.db, record.scope)) };
    if (result.failed.includes("room")) return { outcome: "room_not_live" };
    if (result.failed.includes("wallet")) return { outcome: "insufficient_balance" };
    return { outcome: "contended" };
  }

  /**
   * A charged callback gift is let through: `charged` → `allowed`, and its refund is called off,
   * in one transaction. False when that did not happen (or could not be known by the deadline).
   */
  async allowCallbackGift(scope: string, refundEntryId: string, deadlineMs: number): Promise<boolean> {
    try {
      const result = await transact(
        this.db,
        {
          record: {
            Update: {
              TableName: this.db.table,
              Key: idempotencyKey(scope),
              UpdateExpression: "SET #status = :allowed",
              ConditionExpression: "#status = :charged",
              ExpressionAttributeNames: { "#status": "status" },
              ExpressionAttributeValues: { ":allowed": "allowed", ":charged": "charged" },
            },
          },
          refund: outboxCancelItem(this.db, refundEntryId, Date.now()),
        },
        { deadlineMs },
      );
      return result.ok;
    } catch (error) {
      if (isUnresolvedWrite(error)) return false;
      throw error;
    }
  }

  /**
   * A charged callback gift is refused (whatever was recorded before): `rejected`, with its
   * refund due now. True once that is certain.
   */
  async rejectCallbackGift(scope: string, refundEntryId: string, deadlineMs: number): Promise<boolean> {
    const now = Date.now();
    const result = await transact(
      this.db,
      {
        record: {
          Update: {
            TableName: this.db.table,
            Key: idempotencyKey(scope),
            UpdateExpression: "SET #status = :rejected",
            ConditionExpression: "#status IN (:charged, :allowed)",
            ExpressionAttributeNames: { "#status": "status" },
            ExpressionAttributeValues: { ":rejected": "rejected", ":charged": "charged", ":allowed": "allowed" },
          },
        },
        refund: outboxRearmItem(this.db, refundEntryId, now),
      },
      { deadlineMs },
    );
    // Not charged/allowed any more means already rejected or refunded: certain either way.
    return result.ok || result.failed.includes("record");
  }

  /** Admin top-up: balance, ledger entry and idempotency record in one transaction. */
  async credit(userId: string, amount: number, reason: string, record: IdempotencyRecord): Promise<BillOutcome> {
    const ledgerId = movementId(record.scope);
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

function toLedgerEntry(item: Record<string, unknown>): LedgerEntry {
  const { entryId, kind, account, amount, createdAt, roomId, giftId, count, counterparty, reason } = item as unknown as LedgerEntry;
  return { entryId, kind, account, amount, createdAt, roomId, giftId, count, counterparty, reason };
}
