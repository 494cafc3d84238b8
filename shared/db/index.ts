export { createDb, type Db } from "./client.js";
export { createAdminClient, ensureTable, setUpTable, indexNames, tableDefinition, ttlAttribute } from "./tables.js";
export type { Credentials } from "./document.js";

/** Epoch seconds, the unit of every `ttl` and `*AtSeconds` attribute. */
export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** True when DynamoDB refused a write because its condition did not hold. */
export function isConditionFailed(error: unknown): boolean {
  return (error as { name?: string } | null)?.name === "ConditionalCheckFailedException";
}
export { batchGet } from "./batch.js";
export { defaultWriteBudgetMs, isStoreUnavailable, isUnresolvedWrite, transact, UnresolvedWriteError, type TransactItem, type TransactResult } from "./transact.js";
