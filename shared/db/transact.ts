import { randomUUID } from "node:crypto";
import { TransactWriteCommand, type TransactWriteCommandInput } from "./commands.js";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import type { Db } from "./client.js";

export type TransactItem = NonNullable<TransactWriteCommandInput["TransactItems"]>[number];

/** How long a write keeps trying to reach a certain outcome unless the caller gives a deadline. */
export const defaultWriteBudgetMs = 5_000;

/** A transaction whose outcome is still unknown at its deadline: it may or may not have committed. */
export class UnresolvedWriteError extends Error {
  override readonly name = "UnresolvedWriteError";
  constructor(cause: unknown) {
    super("the transaction's outcome is unknown: DynamoDB did not answer in time", { cause });
  }
}

export type TransactResult<Label extends string> =
  | { ok: true }
  /**
   * Cancelled, nothing written. `failed`: the labels whose condition did not hold, with the item as
   * it was when asked for (`ReturnValuesOnConditionCheckFailure`); empty when the items stayed
   * contended past the deadline.
   */
  | { ok: false; failed: Label[]; old: Partial<Record<Label, Record<string, unknown>>> };

/** Errors after which the request certainly changed nothing and a repeat cannot help. */
const definiteErrors = new Set(["ValidationException", "ResourceNotFoundException", "IdempotentParameterMismatchException", "SerializationException"]);
/** Cancellation reasons that say "try again": nothing was written. */
const transientReasons = new Set(["TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"]);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The one way onair writes a transaction. Items are labelled, so a cancellation names the items
 * whose condition failed instead of positions. Every attempt carries the same
 * `ClientRequestToken`: DynamoDB applies a token once, so repeating a transaction whose answer
 * was lost (a 500, a reset, throttling after the commit) is safe, and the repeat's answer is the
 * outcome. Conflicts and throttling are retried with jittered backoff until `deadlineMs`; past it,
 * an outcome that may be a commit throws `UnresolvedWriteError`. A deadline already passed sends nothing.
 */
export async function transact<Label extends string>(
  db: Db,
  items: Record<Label, TransactItem>,
  options: { deadlineMs?: number } = {},
): Promise<TransactResult<Label>> {
  const labels = Object.keys(items) as Label[];
  const token = randomUUID();
  const deadline = options.deadlineMs ?? Date.now() + defaultWriteBudgetMs;
  let mayHaveCommitted = false;
  for (let attempt = 0; ; attempt++) {
    if (Date.now() >= deadline) {
      if (mayHaveCommitted) throw new UnresolvedWriteError(undefined);
      return { ok: false, failed: [], old: {} };
    }
    try {
      // The SDK's own retries must not carry an attempt past the deadline either.
      const abortSignal = AbortSignal.timeout(Math.max(1, deadline - Date.now()));
      await db.doc.send(new TransactWriteCommand({ TransactItems: labels.map((label) => items[label]), ClientRequestToken: token }), { abortSignal });
      return { ok: true };
    } catch (error) {
      const reasons = (error as { name?: string }).name === "TransactionCanceledException" ? ((error as { CancellationReasons?: { Code?: string; Item?: Record<string, never> }[] }).CancellationReasons ?? []) : undefined;
      if (reasons && !reasons.some((reason) => transientReasons.has(reason.Code ?? ""))) {
        const failed = labels.filter((_, index) => reasons[index]?.Code === "ConditionalCheckFailed");
        if (failed.length === 0) throw error; // a validation problem: a bug, not a race
        const old: Partial<Record<Label, Record<string, unknown>>> = {};
        for (const label of failed) {
          const item = reasons[labels.indexOf(label)]?.Item;
          if (item) old[label] = unmarshall(item);
        }
        return { ok: false, failed, old };
      }
      if (definiteErrors.has((error as Error).name)) throw error;
      // Anything else (a 500, a reset, throttling, an abort) may have followed a commit.
      if (!reasons) mayHaveCommitted = true;
      const delay = Math.random() * Math.min(400, 20 * 2 ** attempt);
      if (Date.now() + delay >= deadline && mayHaveCommitted) throw new UnresolvedWriteError(error);
      await sleep(delay);
    }
  }
}

/** True for the error `transact` throws when it cannot tell whether it committed. */
export const isUnresolvedWrite = (error: unknown) => (error as { name?: string } | null)?.name === "UnresolvedWriteError";

/**
 * True for a DynamoDB failure that says nothing about the request itself: throttling past the
 * SDK's retries, a transaction holding the item, a 5xx, a cut connection or a timeout. The caller should retry the same request.
 * (The SDK's retry middleware puts `$metadata` on every error it gave up on.)
 */
export function isStoreUnavailable(error: unknown): boolean {
  const sdk = error as { name?: string; $metadata?: { httpStatusCode?: number }; $retryable?: unknown } | null;
  if (!sdk?.$metadata) return false;
  const status = sdk.$metadata.httpStatusCode;
  // A write refused because a transaction holds the item (TransactionConflictException) is as
  // passing as throttling: the same request will go through in a moment.
  return sdk.$retryable !== undefined || status === undefined || status >= 500 || /Throttl|ProvisionedThroughputExceeded|RequestLimitExceeded|TransactionConflict/.test(sdk.name ?? "");
}
