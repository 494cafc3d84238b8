import { createHash } from "node:crypto";
import { GetCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { batchGet, cancellationCodes, type Db } from "../db/index.js";
import { outboxPut, type OutboxEntry } from "../outbox/index.js";
import { counterKey, counterShards, padded, shardOf } from "../rooms/index.js";
import type { Gift } from "./catalog.js";

/**
 * DynamoDB access for money. Keys (README "Data model"):
 *
 * - wallet        pk `WALLET#<userId>`            sk `WALLET`       { balance }        coins to spend
 * - earnings      pk `EARN#<userId>#<0-15>`       sk `EARN`         { earnings }       a host's income, sharded
 * - ledger        pk `LEDGER#<userId>#<0-15>`     sk `<createdAt>#<entryId>`           one entry per money movement
 * - idempotency   pk `IDEMP#<scope>`              sk `IDEMP`        { fingerprint, status, response, expiresAt }
 * - gifter        pk `GIFTER#<roomId>#<userId>`   sk `GIFTER`       { coins }; gsi4 `LEADER#<roomId>#<0-9>` / coins (number)
 *
 * Every movement is one transaction: the balances it changes, both ledger entries and the
 * idempotency record, so the ledger always sums to the balances and a retry never bills twice.
 */
export const earningShards = 16;
export const ledgerShards = 16;
export const leaderboardShards = 10;

/** How long a used idempotency key answers with its first response. */
export const idempotencyTtlSeconds = 24 * 3600;
/** A record still `in_progress` after this long belongs to a request that died after billing. */
export const inFlightLeaseMs = 10_000;

export type LedgerKind = "credit" | "gift_sent" | "gift_received" | "gift_refund_sent" | "gift_refund_received";

export interface LedgerEntry {
  entryId: string;
  kind: LedgerKind;
  account: "balance" | "earnings";
  /** Signed coins: negative for money leaving the account. */
  amount: number;
  createdAt: number;
  roomId?: number;
  giftId?: string;
  count?: number;
  counterparty?: string;
  reason?: string;
}

export interface IdempotencyRecord {
  scope: string;
  fingerprint: string;
  status: "in_progress" | "completed" | "refunded";
  response: { status: number; body: Record<string, unknown> };
  createdAt: number;
  expiresAt: number;
  outboxEntryId?: string;
  charge?: GiftCharge;
}

/** Everything needed to bill one gift message or request, and to undo it. */
export interface GiftCharge {
  senderId: string;
  hostId: string;
  roomId: number;
  giftId: string;
  count: number;
  amount: number;
  heat: number;
}

export const walletKey = (userId: string) => ({ pk: `WALLET#${userId}`, sk: "WALLET" });
export const earningsKey = (userId: string, shard: number) => ({ pk: `EARN#${userId}#${shard}`, sk: "EARN" });
export const idempotencyKey = (scope: string) => ({ pk: `IDEMP#${scope}`, sk: "IDEMP" });
const gifterKey = (roomId: number, userId: string) => ({ pk: `GIFTER#${roomId}#${userId}`, sk: "GIFTER" });

/** A stable id for the movement a scope names. */
export const movementId = (scope: string) => createHash("sha256").update(scope).digest("base64url").slice(0, 22);

export function chargeFor(gift: Gift, count: number, senderId: string, hostId: string, roomId: number): GiftCharge {
  return { senderId, hostId, roomId, giftId: gift.giftId, count, amount: gift.price * count, heat: gift.heat * count };
}

export type BillOutcome =
  | { outcome: "billed"; ledgerId: string }
  | { outcome: "duplicate"; record: IdempotencyRecord | undefined }
  | { outcome: "insufficient_balance" }
  | { outcome: "contended" };

export class WalletStore {
  constructor(readonly db: Db) {}

  private ledgerPut(userId: string, entry: LedgerEntry) {
    return {
      Put: {
        TableName: this.db.table,
        Item: { pk: `LEDGER#${userId}#${shardOf(entry.entryId, ledgerShards)}`, sk: `${padded(entry.createdAt)}#${entry.entryId}`, type: "ledger", userId, ...entry },
      },
    };
  }

  /** The idempotency record's Put: only when the key is unused or its record has expired. */
  private idempotencyPut(record: IdempotencyRecord) {
    return {
      Put: {
        TableName: this.db.table,
        Item: { ...idempotencyKey(record.scope), type: "idempotency", ...record, ttl: Math.ceil(record.expiresAt / 1000) },
        ConditionExpression: "attribute_not_exists(pk) OR expiresAt < :now",
        ExpressionAttributeValues: { ":now": record.createdAt },
      },
    };
  }

  /**
   * Bill a gift in one transaction: debit the sender (never below zero), credit one shard of
   * the host's earnings, write both ledger entries, the idempotency record, the room's gift
   * counters, the sender's leaderboard total and, when given, the outbox entry that delivers
   * the gift message. Retries on write contention.
   */
  async bill(charge: GiftCharge, record: Omit<IdempotencyRecord, "charge">, outbox?: OutboxEntry): Promise<BillOutcome> {
    const ledgerId = movementId(record.scope);
    const now = record.createdAt;
    const common = { createdAt: now, roomId: charge.roomId, giftId: charge.giftId, count: charge.count };
    const shard = shardOf(ledgerId, counterShards);
    const items = [
      this.idempotencyPut({ ...record, charge }),
      {
        Update: {
          TableName: this.db.table,
          Key: walletKey(charge.senderId),
          UpdateExpression: "SET balance = balance - :amount",
          ConditionExpression: "balance >= :amount",
          ExpressionAttributeValues: { ":amount": charge.amount },
        },
      },
      {
        Update: {
          TableName: this.db.table,
          Key: earningsKey(charge.hostId, shardOf(ledgerId, earningShards)),
          UpdateExpression: "SET #type = :type, userId = :user ADD earnings :amount",
          ExpressionAttributeNames: { "#type": "type" },
          ExpressionAttributeValues: { ":amount": charge.amount, ":type": "earnings", ":user": charge.hostId },
        },
      },
      this.ledgerPut(charge.senderId, { entryId: `${ledgerId}-s`, kind: "gift_sent", account: "balance", amount: -charge.amount, counterparty: charge.hostId, ...common }),
      this.ledgerPut(charge.hostId, { entryId: `${ledgerId}-r`, kind: "gift_received", account: "earnings", amount: charge.amount, counterparty: charge.senderId, ...common }),
      {
        Update: {
          TableName: this.db.table,
          Key: counterKey(charge.roomId, shard),
          UpdateExpression: "SET #type = :type ADD giftIncome :amount, giftHeat :heat",
          ExpressionAttributeNames: { "#type": "type" },
          ExpressionAttributeValues: { ":amount": charge.amount, ":heat": charge.heat, ":type": "room_counter" },
        },
      },
      this.gifterUpdate(charge.roomId, charge.senderId, charge.amount),
      ...(outbox ? [outboxPut(this.db, outbox, now)] : []),
    ];
    const result = await this.transactWithRetry(items);
    if (result === "ok") return { outcome: "billed", ledgerId };
    if (result === "contended") return { outcome: "contended" };
    if (result[0] === "ConditionalCheckFailed") return { outcome: "duplicate", record: await this.getIdempotency(record.scope) };
    if (result[1] === "ConditionalCheckFailed") return { outcome: "insufficient_balance" };
    throw new Error(`gift transaction cancelled: ${result.join(",")}`);
  }

  /** Undo a billed gift (a callback answered too late to let its message through). */
  async refund(scope: string, charge: GiftCharge): Promise<boolean> {
    const ledgerId = movementId(`refund:${scope}`);
    const now = Date.now();
    const common = { createdAt: now, roomId: charge.roomId, giftId: charge.giftId, count: charge.count };
    const result = await this.transactWithRetry([
      {
        Update: {
          TableName: this.db.table,
          Key: idempotencyKey(scope),
          UpdateExpression: "SET #status = :refunded, #response = :response",
          ConditionExpression: "#status = :completed",
          ExpressionAttributeNames: { "#status": "status", "#response": "response" },
          ExpressionAttributeValues: { ":refunded": "refunded", ":completed": "completed", ":response": { status: 409, body: { refunded: true } } },
        },
      },
      { Update: { TableName: this.db.table, Key: walletKey(charge.senderId), UpdateExpression: "ADD balance :amount", ExpressionAttributeValues: { ":amount": charge.amount } } },
      {
        Update: {
          TableName: this.db.table,
          Key: earningsKey(charge.hostId, shardOf(movementId(scope), earningShards)),
          UpdateExpression: "ADD earnings :minus",
          ExpressionAttributeValues: { ":minus": -charge.amount },
        },
      },
      this.ledgerPut(charge.senderId, { entryId: `${ledgerId}-s`, kind: "gift_refund_sent", account: "balance", amount: charge.amount, counterparty: charge.hostId, ...common }),
      this.ledgerPut(charge.hostId, { entryId: `${ledgerId}-r`, kind: "gift_refund_received", account: "earnings", amount: -charge.amount, counterparty: charge.senderId, ...common }),
      {
        Update: {
          TableName: this.db.table,
          Key: counterKey(charge.roomId, shardOf(movementId(scope), counterShards)),
          UpdateExpression: "ADD giftIncome :minus, giftHeat :minusHeat",
          ExpressionAttributeValues: { ":minus": -charge.amount, ":minusHeat": -charge.heat },
        },
      },
      this.gifterUpdate(charge.roomId, charge.senderId, -charge.amount),
    ]);
    return result === "ok";
  }

  /** Admin top-up: balance, ledger entry and idempotency record in one transaction. */
  async credit(userId: string, amount: number, reason: string, record: IdempotencyRecord): Promise<BillOutcome> {
    const ledgerId = movementId(record.scope);
    const result = await this.transactWithRetry([
      this.idempotencyPut(record),
      {
        Update: {
          TableName: this.db.table,
          Key: walletKey(userId),
          UpdateExpression: "SET #type = :type, userId = :user ADD balance :amount",
          ExpressionAttributeNames: { "#type": "type" },
          ExpressionAttributeValues: { ":amount": amount, ":type": "wallet", ":user": userId },
        },
      },
      this.ledgerPut(userId, { entryId: `${ledgerId}-c`, kind: "credit", account: "balance", amount, reason, createdAt: record.createdAt }),
    ]);
    if (result === "ok") return { outcome: "billed", ledgerId };
    if (result === "contended") return { outcome: "contended" };
    if (result[0] === "ConditionalCheckFailed") return { outcome: "duplicate", record: await this.getIdempotency(record.scope) };
    throw new Error(`credit transaction cancelled: ${result.join(",")}`);
  }

  private gifterUpdate(roomId: number, userId: string, amount: number) {
    return {
      Update: {
        TableName: this.db.table,
        Key: gifterKey(roomId, userId),
        // Both SET operands read the value before this update, so gsi4sk is the new total.
        UpdateExpression: "SET coins = if_not_exists(coins, :zero) + :amount, gsi4sk = if_not_exists(coins, :zero) + :amount, gsi4pk = :board, userId = :user, #type = :type",
        ExpressionAttributeNames: { "#type": "type" },
        ExpressionAttributeValues: { ":zero": 0, ":amount": amount, ":board": `LEADER#${roomId}#${shardOf(userId, leaderboardShards)}`, ":user": userId, ":type": "gifter" },
      },
    };
  }

  /** Run a transaction; on contention (another transaction on the same items) back off and retry. */
  private async transactWithRetry(items: unknown[]): Promise<"ok" | "contended" | string[]> {
    for (let attempt = 0; attempt < 12; attempt++) {
      try {
        await this.db.doc.send(new TransactWriteCommand({ TransactItems: items as never }));
        return "ok";
      } catch (error) {
        const codes = cancellationCodes(error);
        const contended = (error as Error).name === "TransactionConflictException" || codes?.includes("TransactionConflict");
        if (codes && !contended) return codes;
        if (!contended) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(200, 10 * 2 ** attempt)));
      }
    }
    return "contended";
  }

  async getIdempotency(scope: string): Promise<IdempotencyRecord | undefined> {
    const { Item } = await this.db.doc.send(new GetCommand({ TableName: this.db.table, Key: idempotencyKey(scope), ConsistentRead: true }));
    return Item && Item.expiresAt >= Date.now() ? (Item as unknown as IdempotencyRecord) : undefined;
  }

  async completeIdempotency(scope: string, response: IdempotencyRecord["response"]): Promise<void> {
    await this.db.doc.send(
      new UpdateCommand({
        TableName: this.db.table,
        Key: idempotencyKey(scope),
        UpdateExpression: "SET #status = :completed, #response = :response",
        ConditionExpression: "#status = :inProgress",
        ExpressionAttributeNames: { "#status": "status", "#response": "response" },
        ExpressionAttributeValues: { ":completed": "completed", ":inProgress": "in_progress", ":response": response },
      }),
    );
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
