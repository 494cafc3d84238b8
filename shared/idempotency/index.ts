import { createHash } from "node:crypto";
import { GetCommand, UpdateCommand } from "../db/commands.js";
import type { Db, TransactItem } from "../db/index.js";
import { BadRequestError, ConflictError, UnprocessableError } from "../errors/index.js";

/**
 * Idempotency records, as Powertools keeps them: one item per scope (`app:<user>:<key>`,
 * `admin:<key>`, `im:<group>:<MsgId>`) holding the request's fingerprint, a status and the answer
 * to replay. The record is written by a conditional Put inside the transaction that does the
 * work, so the work and its record commit together; expiry is checked in the condition, since
 * DynamoDB's TTL deletes lazily.
 *
 * Item: pk `IDEMP#<scope>`, sk `IDEMP` → { fingerprint, status, response, createdAt, expiresAt, ttl, … }.
 */

/** How long a used key answers with its first response. @default 24 h */
export const idempotencyTtlSeconds = 24 * 3600;
/** A record still `in_progress` after this long belongs to a request that died after its work. */
export const inFlightLeaseMs = 10_000;

/**
 * `in_progress` → `completed`: an app gift or admin credit. A callback gift is `charged` by its
 * billing transaction, then `delivered` (IM reported its message delivered: the charge stands)
 * or `refunded` (no report within its window: the coins go back, through the outbox). `allowed`
 * and `rejected` are written only by versions before delivery reports: `allowed` counts as
 * delivered, `rejected` as awaiting its refund.
 */
export type IdempotencyStatus = "in_progress" | "completed" | "charged" | "delivered" | "allowed" | "rejected" | "refunded";

export interface IdempotencyRecord<Extra = object> {
  scope: string;
  fingerprint: string;
  status: IdempotencyStatus;
  response: { status: number; body: Record<string, unknown> };
  createdAt: number;
  expiresAt: number;
  /** The outbox entry the work wrote beside the record (a gift's message, a callback gift's refund). */
  outboxEntryId?: string;
  /** What the work needs to be undone (a callback gift's charge). */
  charge?: Extra;
}

export const idempotencyKey = (scope: string) => ({ pk: `IDEMP#${scope}`, sk: "IDEMP" });

/** The fingerprint of a request: the same key with another request is refused (422). */
export const fingerprintOf = (value: unknown) => createHash("sha256").update(JSON.stringify(value)).digest("hex");

/** A fresh record for work starting now. */
export function newRecord(scope: string, request: unknown, status: IdempotencyStatus, response: IdempotencyRecord["response"], nowMs: number, extra: Partial<IdempotencyRecord> = {}): IdempotencyRecord {
  return { scope, fingerprint: fingerprintOf(request), status, response, createdAt: nowMs, expiresAt: nowMs + idempotencyTtlSeconds * 1000, ...extra };
}

/**
 * The record's Put for the work's transaction: only when the key is unused or its record has
 * expired. A duplicate's record comes back with the cancellation, so it costs no second read.
 */
export function recordPut(db: Db, record: IdempotencyRecord): TransactItem {
  return {
    Put: {
      TableName: db.table,
      Item: { ...idempotencyKey(record.scope), type: "idempotency", ...record, ttl: Math.ceil(record.expiresAt / 1000) },
      ConditionExpression: "attribute_not_exists(pk) OR expiresAt < :now",
      ExpressionAttributeValues: { ":now": record.createdAt },
      ReturnValuesOnConditionCheckFailure: "ALL_OLD",
    },
  };
}

/** The live record of a scope (consistent read), or undefined when unused or expired. */
export async function getRecord(db: Db, scope: string): Promise<IdempotencyRecord | undefined> {
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: idempotencyKey(scope), ConsistentRead: true }));
  return Item && Item.expiresAt >= Date.now() ? (Item as unknown as IdempotencyRecord) : undefined;
}

/** `in_progress` → `completed` with the final answer. */
export async function completeRecord(db: Db, scope: string, response: IdempotencyRecord["response"]): Promise<void> {
  await db.doc.send(
    new UpdateCommand({
      TableName: db.table,
      Key: idempotencyKey(scope),
      UpdateExpression: "SET #status = :completed, #response = :response",
      ConditionExpression: "#status = :inProgress",
      ExpressionAttributeNames: { "#status": "status", "#response": "response" },
      ExpressionAttributeValues: { ":completed": "completed", ":inProgress": "in_progress", ":response": response },
    }),
  );
}

export const keyReused = () => new UnprocessableError("idempotency_key_reused", "this Idempotency-Key was used with a different request");
export const requestInProgress = () => new ConflictError("request_in_progress", "a request with this Idempotency-Key is in progress; retry shortly", { "retry-after": "1" });

/**
 * What a repeat of a recorded request gets: 422 for another request under the key, the stored
 * answer when completed, 409 with Retry-After while the first is running, and `stale` when
 * the first died after its work (its lease is over): the caller finishes what it left.
 */
export function replayOf(record: IdempotencyRecord, fingerprint: string, nowMs = Date.now()): { answer: IdempotencyRecord["response"] } | "stale" {
  if (record.fingerprint !== fingerprint) throw keyReused();
  if (record.status !== "in_progress") return { answer: record.response };
  if (nowMs - record.createdAt < inFlightLeaseMs) throw requestInProgress();
  return "stale";
}

/** The Idempotency-Key header's value, or a 400 naming what is wrong with it. */
export function idempotencyKeyFrom(header: string | undefined): string {
  if (header === undefined) throw new BadRequestError("idempotency_key_required", "the Idempotency-Key header is required");
  if (!/^[\x21-\x7e]{1,255}$/.test(header)) throw new BadRequestError("invalid_idempotency_key", "Idempotency-Key must be 1-255 printable ASCII characters");
  return header;
}
