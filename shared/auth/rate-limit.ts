import { UpdateCommand } from "../db/commands.js";
import { isConditionFailed, nowSeconds, type Db } from "../db/index.js";

/**
 * Fixed-window attempt limits, atomic under any concurrency: a slot is taken with one
 * conditional ADD before the work it guards, so N parallel callers can never all pass a check
 * they read before any of them counted.
 *
 * Item: pk `RATE#<name>#<windowStart>`, sk `RATE` → { count, ttl } (TTL after two windows).
 */
export interface Limit {
  /** What is counted and for whom, e.g. `login:<userId>:<ip>`. */
  name: string;
  max: number;
  windowSeconds: number;
}

export type Slot = { taken: true; release(): Promise<void> } | { taken: false; retryAfterSeconds: number };

const slotKey = (name: string, windowStart: number) => ({ pk: `RATE#${name}#${windowStart}`, sk: "RATE" });

export async function takeSlot(db: Db, limit: Limit): Promise<Slot> {
  const now = nowSeconds();
  const windowStart = now - (now % limit.windowSeconds);
  const key = slotKey(limit.name, windowStart);
  const add = (delta: number, condition?: string) =>
    db.doc.send(
      new UpdateCommand({
        TableName: db.table,
        Key: key,
        UpdateExpression: "ADD #count :delta SET #ttl = :ttl, #type = :type",
        ConditionExpression: condition,
        ExpressionAttributeNames: { "#count": "count", "#ttl": "ttl", "#type": "type" },
        ExpressionAttributeValues: { ":delta": delta, ":ttl": windowStart + 2 * limit.windowSeconds, ":type": "rate_limit", ...(condition ? { ":max": limit.max } : {}) },
      }),
    );
  try {
    await add(1, "attribute_not_exists(#count) OR #count < :max");
  } catch (error) {
    if (isConditionFailed(error)) return { taken: false, retryAfterSeconds: windowStart + limit.windowSeconds - now };
    throw error;
  }
  return { taken: true, release: async () => void (await add(-1)) };
}
