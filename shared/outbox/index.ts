import { createHash } from "node:crypto";
import { PutCommand, QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { Db } from "../db/index.js";
import type { Logger } from "../log/index.js";
import { runCommand, type TencentCommand, type TencentDeps } from "../tencent/index.js";

/**
 * The outbox: every Tencent side effect of a state change is written in the same DynamoDB
 * transaction as the change, run right away, and left for the sweeper when it fails, so
 * nothing is lost on a crash or an outage between the two.
 *
 * Item: pk `OUTBOX#<entryId>`, sk `OUTBOX` → { command, status, attempts, nextAttemptAt, lastError, roomId }.
 * While pending it sits in gsi1 under `OUTBOX#<shard>` sorted by `<nextAttemptAt>#<entryId>`,
 * so the sweeper reads only entries that are due; done entries leave the index and expire.
 */
export const outboxShards = 4;
/** The sweeper leaves a fresh entry alone this long: the request that wrote it is running it. */
export const inlineLeaseMs = 30_000;
/** Attempts before an entry is marked dead for an operator to look at. */
export const maxAttempts = 8;
const doneRetentionSeconds = 7 * 86_400;

export type OutboxStatus = "pending" | "done" | "dead";

export interface OutboxEntry {
  entryId: string;
  command: TencentCommand;
  roomId?: number;
}

export const outboxKey = (entryId: string) => ({ pk: `OUTBOX#${entryId}`, sk: "OUTBOX" });

function shardOf(entryId: string): number {
  return createHash("sha1").update(entryId).digest().readUInt16BE(0) % outboxShards;
}

export const dueKey = (nextAttemptAtMs: number, entryId: string) => `${String(nextAttemptAtMs).padStart(15, "0")}#${entryId}`;

/** The Put of a new pending entry, for the caller's transaction. */
export function outboxPut(db: Db, entry: OutboxEntry, nowMs: number) {
  const nextAttemptAt = nowMs + inlineLeaseMs;
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

/** Backoff before attempt `attempts + 1`: 5 s, 10 s, 20 s … capped at 10 minutes. */
export const backoffMs = (attempts: number) => Math.min(600_000, 5_000 * 2 ** Math.max(0, attempts - 1));

/**
 * Run entries now and record each outcome. Failures stay pending with a backoff (or dead after
 * `maxAttempts`); nothing here throws, the caller's state change already stands.
 */
export async function runOutbox(db: Db, deps: TencentDeps, entries: OutboxEntry[], log: Logger, attemptsBefore = 0): Promise<{ done: string[]; failed: string[] }> {
  const done: string[] = [];
  const failed: string[] = [];
  await Promise.all(
    entries.map(async (entry) => {
      try {
        const result = await runCommand(entry.command, deps);
        await markDone(db, entry.entryId);
        if (entry.command.kind === "startRecording" && result?.taskId) await keepRecordingTask(db, deps, entry.command.roomId, result.taskId, log);
        done.push(entry.entryId);
      } catch (error) {
        failed.push(entry.entryId);
        log.warn("side effect failed; left in the outbox", { entryId: entry.entryId, kind: entry.command.kind, error });
        await markFailed(db, entry.entryId, attemptsBefore + 1, (error as Error).message).catch((markError) =>
          log.error("could not record a failed side effect; the sweeper will retry it after its lease", { entryId: entry.entryId, error: markError }),
        );
      }
    }),
  );
  return { done, failed };
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
    await db.doc.send(new PutCommand(outboxPut(db, stop, Date.now()).Put)).catch((putError) => {
      if ((putError as Error).name !== "ConditionalCheckFailedException") throw putError;
    });
    await runOutbox(db, deps, [stop], log);
  }
}

async function markDone(db: Db, entryId: string) {
  await db.doc.send(
    new UpdateCommand({
      TableName: db.table,
      Key: outboxKey(entryId),
      UpdateExpression: "SET #status = :done, doneAt = :now, #ttl = :ttl REMOVE gsi1pk, gsi1sk",
      ExpressionAttributeNames: { "#status": "status", "#ttl": "ttl" },
      ExpressionAttributeValues: { ":done": "done", ":now": Date.now(), ":ttl": Math.floor(Date.now() / 1000) + doneRetentionSeconds },
    }),
  );
}

async function markFailed(db: Db, entryId: string, attempts: number, message: string) {
  const dead = attempts >= maxAttempts;
  const nextAttemptAt = Date.now() + backoffMs(attempts);
  await db.doc.send(
    new UpdateCommand({
      TableName: db.table,
      Key: outboxKey(entryId),
      UpdateExpression: dead
        ? "SET #status = :dead, attempts = :attempts, lastError = :error REMOVE gsi1pk, gsi1sk"
        : "SET attempts = :attempts, lastError = :error, nextAttemptAt = :next, gsi1sk = :due",
      ConditionExpression: "#status = :pending",
      ExpressionAttributeNames: { "#status": "status" },
      ExpressionAttributeValues: {
        ":attempts": attempts,
        ":error": message.slice(0, 500),
        ":pending": "pending",
        ...(dead ? { ":dead": "dead" } : { ":next": nextAttemptAt, ":due": dueKey(nextAttemptAt, entryId) }),
      },
    }),
  );
}

/**
 * The sweeper's outbox job: read only the entries that are due (one Query per index partition),
 * claim each by moving its due time forward with a conditional write — so overlapping sweeps
 * never run an entry twice at once — then run it and record the outcome.
 */
export async function retryDueEntries(db: Db, deps: TencentDeps, log: Logger, nowMs = Date.now(), limitPerShard = 100) {
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
  ).flatMap((page) => page.Items ?? []);
  let done = 0;
  let failed = 0;
  let skipped = 0;
  for (const key of due) {
    const entryId = String(key.pk).slice("OUTBOX#".length);
    const claimed = await claim(db, entryId, String(key.gsi1sk), nowMs);
    if (!claimed) {
      skipped++;
      continue;
    }
    const result = await runOutbox(db, deps, [{ entryId, command: claimed.command, roomId: claimed.roomId }], log, claimed.attempts);
    done += result.done.length;
    failed += result.failed.length;
  }
  return { due: due.length, done, failed, skipped };
}

/** Take an entry for one run: only if it is still pending at the due key we read. */
async function claim(db: Db, entryId: string, seenDueKey: string, nowMs: number) {
  const leaseUntil = nowMs + inlineLeaseMs;
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
    return Attributes as { command: TencentCommand; roomId?: number; attempts: number };
  } catch (error) {
    if ((error as Error).name === "ConditionalCheckFailedException") return undefined;
    throw error;
  }
}
