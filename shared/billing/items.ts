import { createHash } from "node:crypto";
import type { TransactItem } from "../db/index.js";
import { counterShards, padded, shardOf } from "../rooms/domain.js";
// The store module, not the rooms index: the outbox runs refunds, and the rooms service imports the outbox.
import { counterKey } from "../rooms/store.js";

/**
 * The money items and their transaction pieces. Keys (README "Data model"):
 *
 * - wallet        pk `WALLET#<userId>`            sk `WALLET`       { balance }        coins to spend
 * - earnings      pk `EARN#<userId>#<0-15>`       sk `EARN`         { earnings }       a host's income, sharded
 * - ledger        pk `LEDGER#<userId>#<0-15>`     sk `<createdAt>#<entryId>`           one entry per money movement
 * - idempotency   pk `IDEMP#<scope>`              sk `IDEMP`        (shared/idempotency) a movement's record, with a callback gift's charge
 * - gifter        pk `GIFTER#<roomId>#<userId>`   sk `GIFTER`       { coins }; gsi4 `LEADER#<roomId>#<0-9>` / coins (number)
 */
export const earningShards = 16;
export const ledgerShards = 16;
export const leaderboardShards = 10;

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
  /** The idempotency scope behind a gift's charge (the sender's entry), so an audit can find its record. */
  scope?: string;
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
const gifterKey = (roomId: number, userId: string) => ({ pk: `GIFTER#${roomId}#${userId}`, sk: "GIFTER" });

/** A stable id for the movement a scope names. */
/**
 * The id of one money movement: its idempotency scope and the time its record was made, so a key
 * reused after its record expired moves money under a new id.
 */
export const movementId = (scope: string, createdAt: number) => shortHash(`${scope}@${createdAt}`);
const shortHash = (text: string) => createHash("sha256").update(text).digest("base64url").slice(0, 22);

export function ledgerPut(table: string, userId: string, entry: LedgerEntry): TransactItem {
  return {
    Put: {
      TableName: table,
      Item: { pk: `LEDGER#${userId}#${shardOf(entry.entryId, ledgerShards)}`, sk: `${padded(entry.createdAt)}#${entry.entryId}`, type: "ledger", userId, ...entry },
    },
  };
}

function gifterUpdate(table: string, roomId: number, userId: string, amount: number): TransactItem {
  return {
    Update: {
      TableName: table,
      Key: gifterKey(roomId, userId),
      // Both SET operands read the value before this update, so gsi4sk is the new total.
      UpdateExpression: "SET coins = if_not_exists(coins, :zero) + :amount, gsi4sk = if_not_exists(coins, :zero) + :amount, gsi4pk = :board, userId = :user, #type = :type",
      ExpressionAttributeNames: { "#type": "type" },
      ExpressionAttributeValues: { ":zero": 0, ":amount": amount, ":board": `LEADER#${roomId}#${shardOf(userId, leaderboardShards)}`, ":user": userId, ":type": "gifter" },
    },
  };
}

/**
 * The money side of a gift, or of its refund (`direction` -1): the sender's balance (a debit
 * only while it stays at or above zero), one shard of the host's earnings, both ledger entries,
 * the room's gift counters and the sender's leaderboard total. Shards come from the gift's
 * movement id, so a refund lands on the shards its gift did.
 */
export function giftMovementItems(table: string, charge: GiftCharge, movement: string, createdAt: number, direction: 1 | -1, scope?: string) {
  const amount = charge.amount * direction;
  const heat = charge.heat * direction;
  const common = { createdAt, roomId: charge.roomId, giftId: charge.giftId, count: charge.count };
  const ledgerId = direction === 1 ? movement : shortHash(`refund:${movement}`);
  const [sentKind, receivedKind] = direction === 1 ? (["gift_sent", "gift_received"] as const) : (["gift_refund_sent", "gift_refund_received"] as const);
  return {
    wallet: {
      Update: {
        TableName: table,
        Key: walletKey(charge.senderId),
        ...(direction === 1
          ? { UpdateExpression: "SET balance = balance - :amount", ConditionExpression: "balance >= :amount", ExpressionAttributeValues: { ":amount": amount } }
          : { UpdateExpression: "ADD balance :amount", ExpressionAttributeValues: { ":amount": -amount } }),
      },
    },
    earnings: {
      Update: {
        TableName: table,
        Key: earningsKey(charge.hostId, shardOf(movement, earningShards)),
        UpdateExpression: "SET #type = :type, userId = :user ADD earnings :amount",
        ExpressionAttributeNames: { "#type": "type" },
        ExpressionAttributeValues: { ":amount": amount, ":type": "earnings", ":user": charge.hostId },
      },
    },
    sentLedger: ledgerPut(table, charge.senderId, { entryId: `${ledgerId}-s`, kind: sentKind, account: "balance", amount: -amount, counterparty: charge.hostId, ...common, ...(scope ? { scope } : {}) }),
    receivedLedger: ledgerPut(table, charge.hostId, { entryId: `${ledgerId}-r`, kind: receivedKind, account: "earnings", amount, counterparty: charge.senderId, ...common }),
    counters: {
      Update: {
        TableName: table,
        Key: counterKey(charge.roomId, shardOf(movement, counterShards)),
        UpdateExpression: "SET #type = :type ADD giftIncome :amount, giftHeat :heat",
        ExpressionAttributeNames: { "#type": "type" },
        ExpressionAttributeValues: { ":amount": amount, ":heat": heat, ":type": "room_counter" },
      },
    },
    gifter: gifterUpdate(table, charge.roomId, charge.senderId, amount),
  } satisfies Record<string, TransactItem>;
}
