import { createHash } from "node:crypto";
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from "../db/commands.js";
import { batchGet, isConditionFailed, type Db } from "../db/index.js";
import type { Logger } from "../log/index.js";
import { runPooled } from "../pool/index.js";
import { runCommand, type TencentCommand, type TencentDeps } from "../tencent/index.js";
import { BroadcastStore } from "../broadcasts/index.js";
// The module, not the billing index: billing writes outbox entries, the outbox runs refunds.
import { refundGift } from "../billing/refund.js";

/**
 * The outbox: every Tencent side effect of a state change is written in the same DynamoDB
 * transaction as the change, run right away, and left for the sweeper when it fails, so
 * nothing is lost on a crash or an outage between the two.
 *
 * Item: pk `OUTBOX#<entryId>`, sk `OUTBOX` → { command, status, attempts, nextAttemptAt, lastError, roomId }.
 * While pending it sits in gsi1 under `OUTBOX#<shard>` sorted by `<nextAttemptAt>#<entryId>`,
 * so the sweeper reads only entries that are due; done entries leave the index and expire;
 * dead ones move to gsi1 `OUTBOXDEAD` sorted by `<deadAt>#<entryId>`, where operators list them.
 */
export const outboxShards = 4;
/** The sweeper leaves a fresh entry alone this long: the request that wrote it is running it. */
export const inlineLeaseMs = 30_000;
/** Attempts before an entry is marked dead for an operator to look at. */
export const maxAttempts = 8;
const doneRetentionSeconds = 7 * 86_400;

export type OutboxStatus = "pending" | "done" | "dead";

/** A Tencent side effect, or giving a callback gift's coins back (a durable refund). */
export type OutboxCommand = TencentCommand | { kind: "refundGift"; scope: string };

export interface OutboxEntry {
  entryId: string;
  command: OutboxCommand;
  roomId?: number;
}

export const outboxKey = (entryId: string) => ({ pk: `OUTBOX#${entryId}`, sk: "OUTBOX" });

function shardOf(entryId: string): number {
  return createHash("sha1").update(entryId).digest().readUInt16BE(0) % outboxShards;
}

export const dueKey = (nextAttemptAtMs: number, entryId: string) => `${String(nextAttemptAtMs).padStart(15, "0")}#${entryId}`;
const deadPartition = "OUTBOXDEAD";

/**
 * The Put of a new pending entry, for the caller's transaction. The sweeper takes it once it is
 * due: after the inline run's lease, or at `dueAtMs` for an effect that must wait.
 */
export function outboxPut(db: Db, entry: OutboxEntry, nowMs: number, dueAtMs = nowMs + inlineLeaseMs) {
  const nextAttemptAt = dueAtMs;
  return {
    Put: {
      TableName: db.table,
      Item: {
        ...outboxKey(entry.entryId),
        type: "outbox",
        entryId: entry.entryId,
        command: entry.command,
        roomId: entry.roomId,
        status: "pending" satisfies OutboxStatus,
        attempts: 0,
        createdAt: nowMs,
        nextAttemptAt,
        gsi1pk: `OUTBOX#${shardOf(entry.entryId)}`,
        gsi1sk: dueKey(nextAttemptAt, entry.entryId),
      },
      // An entry id names one effect of one state change; writing it twice would run it twice.
      ConditionExpression: "attribute_not_exists(pk)",
    },
  };
}

/** Settle an entry without running it (its state change made it moot), for the caller's transaction. */
export function outboxSettleItem(db: Db, entryId: string, nowMs: number) {
  return {
    Update: {
      TableName: db.table,
      Key: outboxKey(entryId),
      UpdateExpression: "SET #status = :done, doneAt = :now, #ttl = :ttl REMOVE gsi1pk, gsi1sk",
      ConditionExpression: "attribute_exists(pk)",
      ExpressionAttributeNames: { "#status": "status", "#ttl": "ttl" },
      ExpressionAttributeValues: { ":done": "done", ":now": nowMs, ":ttl": Math.floor(nowMs / 1000) + doneRetentionSeconds },
    },
  };
}

/** Run one entry's command: a refund in DynamoDB, anything else at Tencent Cloud. */
async function runEntry(db: Db, deps: TencentDeps, command: OutboxCommand): Promise<{ taskId?: string; undelivered?: boolean } | void> {
  if (command.kind === "refundGift") {
    await refundGift(db, command.scope);
    return undefined;
  }
  return runCommand(command, deps);
}

/**
 * Write a new pending entry on its own (outside a state change's transaction): a plain
 * conditional Put. False when the entry id is already written, so a repeated trigger adds nothing.
 */
export async function putOutboxEntry(db: Db, entry: OutboxEntry, nowMs: number): Promise<boolean> {
  try {
    await db.doc.send(new PutCommand(outboxPut(db, entry, nowMs).Put));
    return true;
  } catch (error) {
    if (isConditionFailed(error)) return false;
    throw error;
  }
}

/** Backoff before attempt `attempts + 1`: 5 s, 10 s, 20 s … capped at 10 minutes. */
export const backoffMs = (attempts: number) => Math.min(600_000, 5_000 * 2 ** Math.max(0, attempts - 1));

/**
 * Run entries now and record each outcome. Failures stay pending with a backoff (or dead after
 * `maxAttempts`); nothing here throws, the caller's state change already stands.
 */
export async function runOutbox(
  db: Db,
  deps: TencentDeps,
  entries: OutboxEntry[],
  log: Logger,
  attemptsBefore = 0,
): Promise<{ done: string[]; failed: string[]; undelivered: string[] }> {
  const done: string[] = [];
  const failed: string[] = [];
  const undelivered: string[] = [];
  await Promise.all(
    entries.map(async (entry) => {
      try {
        if (await waitsForEarlierMessages(db, entry)) {
          // Still pending at its lease: it runs once the group has heard, or its notice is dead.
          failed.push(entry.entryId);
          log.info("group kept until it hears room_closed", { entryId: entry.entryId });
          return;
        }
        const result = await runEntry(db, deps, entry.command);
        await markDone(db, entry.entryId, result?.undelivered === true);
        if (result?.undelivered) undelivered.push(entry.entryId);
        if (entry.command.kind === "startRecording" && result?.taskId) await keepRecordingTask(db, deps, entry.command.roomId, result.taskId, log);
        done.push(entry.entryId);
      } catch (error) {
        failed.push(entry.entryId);
        log.warn("side effect failed; left in the outbox", { entryId: entry.entryId, kind: entry.command.kind, error });
        const attempts = attemptsBefore + 1;
        try {
          await markFailed(db, entry.entryId, attempts, (error as Error).message);
          if (attempts >= maxAttempts) log.error("side effect dead; an operator must retry it", { entryId: entry.entryId, kind: entry.command.kind, attempts });
        } catch (markError) {
          log.error("could not record a failed side effect; the sweeper will retry it after its lease", { entryId: entry.entryId, error: markError });
        }
      }
    }),
  );
  return { done, failed, undelivered };
}

/** The outbox entry that tells a closing room's group `room_closed` (written by the close). */
export const roomClosedNoticeId = (roomId: number) => `${roomId}:close:notify`;

/**
 * A closing room's group hears its pending gifts, then `room_closed`, then it is destroyed: the
 * notice waits while gifts are pending, and the destroy while the notice is (until it is known
 * to have failed: dead, for an operator), since a destroyed group answers a retry with 10010.
 */
async function waitsForEarlierMessages(db: Db, entry: OutboxEntry): Promise<boolean> {
  if (entry.roomId === undefined) return false;
  if (entry.entryId === roomClosedNoticeId(entry.roomId)) return new BroadcastStore(db).hasPending(entry.roomId);
  if (entry.command.kind !== "destroyGroup") return false;
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: outboxKey(roomClosedNoticeId(entry.roomId)), ConsistentRead: true }));
  return Item?.status === "pending";
}

/**
 * A started recording's task id goes on its room, so the close can stop it. If the room closed
 * while the recording was starting, stop the recording now (through the outbox, so it is kept).
 */
async function keepRecordingTask(db: Db, deps: TencentDeps, roomId: number, taskId: string, log: Logger) {
  try {
    await db.doc.send(
      new UpdateCommand({
        TableName: db.table,
        // The room item's key (shared/rooms); written here because only the runner sees the task id.
        Key: { pk: `ROOM#${roomId}`, sk: "ROOM" },
        UpdateExpression: "SET recordingTaskId = :task",
        ConditionExpression: "#status = :live",
        ExpressionAttributeNames: { "#status": "status" },
        ExpressionAttributeValues: { ":task": taskId, ":live": "live" },
      }),
    );
  } catch (error) {
    if ((error as Error).name !== "ConditionalCheckFailedException") throw error;
    const stop: OutboxEntry = { entryId: `${roomId}:stopRecording:${taskId}`, roomId, command: { kind: "stopRecording", taskId } };
    await putOutboxEntry(db, stop, Date.now());
    await runOutbox(db, deps, [stop], log);
  }
}

/** Settled; `undelivered` when it was a message whose group was already gone. */
async function markDone(db: Db, entryId: string, undelivered: boolean) {
  await db.doc.send(
    new UpdateCommand({
      TableName: db.table,
      Key: outboxKey(entryId),
      UpdateExpression: "SET #status = :done, doneAt = :now, #ttl = :ttl, undelivered = :undelivered REMOVE gsi1pk, gsi1sk",
      ExpressionAttributeNames: { "#status": "status", "#ttl": "ttl" },
      ExpressionAttributeValues: { ":done": "done", ":now": Date.now(), ":ttl": Math.floor(Date.now() / 1000) + doneRetentionSeconds, ":undelivered": undelivered },
    }),
  );
}

async function markFailed(db: Db, entryId: string, attempts: number, message: string) {
  const dead = attempts >= maxAttempts;
  const now = Date.now();
  const nextAttemptAt = now + backoffMs(attempts);
  await db.doc.send(
    new UpdateCommand({
      TableName: db.table,
      Key: outboxKey(entryId),
      UpdateExpression: dead
        ? "SET #status = :dead, attempts = :attempts, lastError = :error, deadAt = :now, gsi1pk = :deadPk, gsi1sk = :deadKey"
        : "SET attempts = :attempts, lastError = :error, nextAttemptAt = :next, gsi1sk = :due",
      ConditionExpression: "#status = :pending",
      ExpressionAttributeNames: { "#status": "status" },
      ExpressionAttributeValues: {
        ":attempts": attempts,
        ":error": message.slice(0, 500),
        ":pending": "pending",
        ...(dead
          ? { ":dead": "dead", ":now": now, ":deadPk": deadPartition, ":deadKey": dueKey(now, entryId) }
          : { ":next": nextAttemptAt, ":due": dueKey(nextAttemptAt, entryId) }),
      },
    }),
  );
}

export interface DeadEntry {
  entryId: string;
  kind: OutboxCommand["kind"];
  roomId?: number;
  attempts: number;
  lastError: string;
  createdAt: number;
  deadAt: number;
}

/** Dead entries, most recent first: one Query on their index partition and a BatchGet. */
export async function listDeadEntries(db: Db, limit: number, before?: string): Promise<{ items: DeadEntry[]; next?: string }> {
  const page = await db.doc.send(
    new QueryCommand({
      TableName: db.table,
      IndexName: "gsi1",
      KeyConditionExpression: before ? "gsi1pk = :pk AND gsi1sk < :before" : "gsi1pk = :pk",
      ExpressionAttributeValues: { ":pk": deadPartition, ...(before ? { ":before": before } : {}) },
      ScanIndexForward: false,
      Limit: limit,
    }),
  );
  const order = (page.Items ?? []).map((key) => String(key.pk));
  const byPk = new Map((await batchGet(db, (page.Items ?? []).map((key) => ({ pk: String(key.pk), sk: String(key.sk) })))).map((item) => [String(item.pk), item]));
  const items = order.flatMap((pk) => {
    const item = byPk.get(pk);
    // Revived between the Query and the BatchGet: no longer dead, so not listed.
    if (!item || item.status !== "dead") return [];
    const { entryId, command, roomId, attempts, lastError, createdAt, deadAt } = item as Record<string, unknown> & { command: OutboxCommand };
    return [{ entryId: String(entryId), kind: command.kind, ...(roomId === undefined ? {} : { roomId: Number(roomId) }), attempts: Number(attempts), lastError: String(lastError ?? ""), createdAt: Number(createdAt), deadAt: Number(deadAt) }];
  });
  return { items, next: page.LastEvaluatedKey ? String(page.Items?.at(-1)?.gsi1sk) : undefined };
}

/**
 * An operator's retry of a dead entry: back to pending with a fresh series of attempts, then
 * run at once. An entry that is pending or done is left alone (its status is the answer).
 */
export async function retryDeadEntry(db: Db, deps: TencentDeps, log: Logger, entryId: string): Promise<{ revived: true; status: "done" | "pending" } | { revived: false; status: OutboxStatus } | undefined> {
  const leaseUntil = Date.now() + inlineLeaseMs;
  let revived: { command: OutboxCommand; roomId?: number };
  try {
    const { Attributes } = await db.doc.send(
      new UpdateCommand({
        TableName: db.table,
        Key: outboxKey(entryId),
        UpdateExpression: "SET #status = :pending, attempts = :zero, nextAttemptAt = :lease, gsi1pk = :pk, gsi1sk = :due REMOVE deadAt",
        ConditionExpression: "#status = :dead",
        ExpressionAttributeNames: { "#status": "status" },
        ExpressionAttributeValues: { ":pending": "pending", ":dead": "dead", ":zero": 0, ":lease": leaseUntil, ":pk": `OUTBOX#${shardOf(entryId)}`, ":due": dueKey(leaseUntil, entryId) },
        ReturnValues: "ALL_NEW",
      }),
    );
    revived = Attributes as typeof revived;
  } catch (error) {
    if (!isConditionFailed(error)) throw error;
    const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: outboxKey(entryId), ConsistentRead: true }));
    return Item ? { revived: false, status: Item.status as OutboxStatus } : undefined;
  }
  log.info("dead side effect revived by an operator", { entryId, kind: revived.command.kind });
  const result = await runOutbox(db, deps, [{ entryId, command: revived.command, roomId: revived.roomId }], log);
  return { revived: true, status: result.done.length > 0 ? "done" : "pending" };
}

/** What one sweeper run did with the outbox. */
export interface OutboxRetrySummary {
  due: number;
  done: number;
  failed: number;
  /** Claimed by an overlapping run, or no longer pending. */
  skipped: number;
  /** Not started before the run's deadline; still due for the next run. */
  deferred: number;
}

/**
 * Entries of one room run one after another in due order (the group hears `room_closed` before
 * it is destroyed); other entries, gifts' among them, each run on their own.
 */
const orderingKey = (entryId: string) => /^(\d+):/.exec(entryId)?.[1] ?? entryId;

/**
 * The sweeper's outbox job: read only the entries that are due (one Query per index partition),
 * claim each by moving its due time forward with a conditional write — so overlapping sweeps
 * never run an entry twice at once — then run it and record the outcome. Rooms run side by
 * side, `concurrency` at a time, and none starts after `stopStartingAt`.
 */
export async function retryDueEntries(
  db: Db,
  deps: TencentDeps,
  log: Logger,
  nowMs = Date.now(),
  options: { limitPerShard?: number; concurrency?: number; stopStartingAt?: number } = {},
): Promise<OutboxRetrySummary> {
  const { limitPerShard = 100, concurrency = 8, stopStartingAt = Infinity } = options;
  const due = (
    await Promise.all(
      Array.from({ length: outboxShards }, (_, shard) =>
        db.doc.send(
          new QueryCommand({
            TableName: db.table,
            IndexName: "gsi1",
            KeyConditionExpression: "gsi1pk = :pk AND gsi1sk < :now",
            ExpressionAttributeValues: { ":pk": `OUTBOX#${shard}`, ":now": dueKey(nowMs, "~") },
            Limit: limitPerShard,
          }),
        ),
      ),
    )
  )
    .flatMap((page) => page.Items ?? [])
    .map((key) => ({ entryId: String(key.pk).slice("OUTBOX#".length), dueKey: String(key.gsi1sk) }))
    .sort((a, b) => (a.dueKey < b.dueKey ? -1 : 1));
  const groups = new Map<string, typeof due>();
  for (const entry of due) {
    const key = orderingKey(entry.entryId);
    const group = groups.get(key);
    if (group) group.push(entry);
    else groups.set(key, [entry]);
  }

  const byRoom = [...groups.values()];
  const summary: OutboxRetrySummary = { due: due.length, done: 0, failed: 0, skipped: 0, deferred: 0 };
  const started = await runPooled(
    byRoom,
    concurrency,
    async (entries) => {
      for (const { entryId, dueKey: seen } of entries) {
        try {
          const claimed = await claim(db, entryId, seen);
          if (!claimed) {
            summary.skipped++;
            continue;
          }
          const result = await runOutbox(db, deps, [{ entryId, command: claimed.command, roomId: claimed.roomId }], log, claimed.attempts);
          summary.done += result.done.length;
          summary.failed += result.failed.length;
        } catch (error) {
          // The claim itself failed (DynamoDB): the entry is still due, the next run takes it.
          summary.failed++;
          log.error("could not claim a due side effect", { entryId, error });
        }
      }
    },
    stopStartingAt,
  );
  summary.deferred = byRoom.slice(started).reduce((sum, entries) => sum + entries.length, 0);
  return summary;
}

/**
 * Take an entry for one run: only if it is still pending at the due key we read. The lease counts
 * from the claim, not from the start of the run: a claim made late in a long run must still
 * hold off an overlapping run for the whole lease.
 */
async function claim(db: Db, entryId: string, seenDueKey: string) {
  const leaseUntil = Date.now() + inlineLeaseMs;
  try {
    const { Attributes } = await db.doc.send(
      new UpdateCommand({
        TableName: db.table,
        Key: outboxKey(entryId),
        UpdateExpression: "SET nextAttemptAt = :lease, gsi1sk = :leaseKey",
        ConditionExpression: "#status = :pending AND gsi1sk = :seen",
        ExpressionAttributeNames: { "#status": "status" },
        ExpressionAttributeValues: { ":lease": leaseUntil, ":leaseKey": dueKey(leaseUntil, entryId), ":pending": "pending", ":seen": seenDueKey },
        ReturnValues: "ALL_NEW",
      }),
    );
    return Attributes as { command: OutboxCommand; roomId?: number; attempts: number };
  } catch (error) {
    if ((error as Error).name === "ConditionalCheckFailedException") return undefined;
    throw error;
  }
}
