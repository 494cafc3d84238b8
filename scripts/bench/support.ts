import { SignJWT } from "jose";
import type { Db } from "../../shared/db/index.js";
import { startStack, type Stack } from "../local/stack.js";

const jwtSecret = "bench-identity-provider-secret-0123456789";

/**
 * The local stack for a benchmark, quiet, with app-JWT auth on so callers cost no session read:
 * the figures are then the measured operation's own.
 */
export async function startBenchStack(): Promise<{ stack: Stack; token: (userId: string) => Promise<string> }> {
  process.env.LOG_LEVEL = "error";
  process.env.AUTH_JWT_SECRET = jwtSecret;
  // The fault proxy, with no faults: the gifts bench switches them on for its comparison.
  const stack = await startStack({ port: 0, emulatorPort: 0, sweepIntervalSeconds: 0, dynamodbFaults: "" });
  const token = (userId: string) => new SignJWT({}).setProtectedHeader({ alg: "HS256" }).setSubject(userId).setExpirationTime("1h").sign(new TextEncoder().encode(jwtSecret));
  return { stack, token };
}

/**
 * Count the DynamoDB requests a client sends, by operation, and the items they write (a
 * transaction's condition checks write nothing), and time them; `reset()` starts over.
 */
export function countRequests(db: Db): { counts: Record<string, number>; itemWrites: { count: number }; latenciesMs: number[]; reset(): void } {
  const counts: Record<string, number> = {};
  const itemWrites = { count: 0 };
  const latenciesMs: number[] = [];
  db.doc.observer = (operation, call, input) => {
    counts[operation] = (counts[operation] ?? 0) + 1;
    itemWrites.count += itemsWritten(operation, input);
    const started = performance.now();
    const timed = () => void latenciesMs.push(performance.now() - started);
    call.then(timed, timed);
  };
  return {
    counts,
    itemWrites,
    latenciesMs,
    reset: () => {
      for (const key of Object.keys(counts)) delete counts[key];
      itemWrites.count = 0;
      latenciesMs.length = 0;
    },
  };
}

export const formatCounts = (counts: Record<string, number>) =>
  Object.entries(counts)
    .map(([command, n]) => `${command.replace(/Command$/, "")}×${n}`)
    .join(", ");

/** Items a DynamoDB request writes, as DynamoDB bills them: one per Put, Update or Delete. */
export function itemsWritten(operation: string, input: object): number {
  if (operation === "PutItem" || operation === "UpdateItem" || operation === "DeleteItem") return 1;
  if (operation === "TransactWriteItems") return ((input as { TransactItems?: object[] }).TransactItems ?? []).filter((item) => !("ConditionCheck" in item)).length;
  if (operation === "BatchWriteItem") return Object.values((input as { RequestItems?: Record<string, unknown[]> }).RequestItems ?? {}).reduce((sum, requests) => sum + requests.length, 0);
  return 0;
}
