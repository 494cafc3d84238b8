import { BatchGetCommand, type BatchGetCommandOutput } from "./commands.js";
import type { Db } from "./client.js";

type Key = Record<string, string>;

/** BatchGetItem for up to 100 keys, retrying what DynamoDB leaves unprocessed. Order is not kept. */
export async function batchGet(db: Db, keys: Key[], consistent = false): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  for (let start = 0; start < keys.length; start += 100) {
    let pending: Key[] | undefined = keys.slice(start, start + 100);
    for (let attempt = 0; pending && pending.length > 0; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 25 * 2 ** attempt)));
      const result: BatchGetCommandOutput = await db.doc.send(new BatchGetCommand({ RequestItems: { [db.table]: { Keys: pending, ConsistentRead: consistent } } }));
      items.push(...(result.Responses?.[db.table] ?? []));
      pending = result.UnprocessedKeys?.[db.table]?.Keys as Key[] | undefined;
    }
  }
  return items;
}
