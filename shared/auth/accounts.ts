import { PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { batchGet, isConditionFailed, nowSeconds, type Db } from "../db/index.js";
import { ConflictError, TooManyRequestsError, UnauthorizedError } from "../errors/index.js";
import { hashPassword, unknownUserHash, verifyPassword } from "./passwords.js";

/**
 * Accounts and login throttling.
 *
 * Items (single table):
 * - account:        pk `USER#<userId>`, sk `ACCOUNT` → { passwordHash, createdAt }
 * - failed logins:  pk `USER#<userId>`, sk `LOGINFAIL#<windowStart>` → { count, ttl }
 *   a fixed window of `loginWindowSeconds`; both items are read in one BatchGet per login.
 */
export const maxFailedLoginsPerWindow = 10;
export const loginWindowSeconds = 15 * 60;

const accountKey = (userId: string) => ({ pk: `USER#${userId}`, sk: "ACCOUNT" });
const failureKey = (userId: string, windowStart: number) => ({ pk: `USER#${userId}`, sk: `LOGINFAIL#${windowStart}` });

export async function registerAccount(db: Db, userId: string, password: string): Promise<{ createdAt: string }> {
  const createdAt = new Date().toISOString();
  const passwordHash = await hashPassword(password);
  try {
    await db.doc.send(
      new PutCommand({
        TableName: db.table,
        Item: { ...accountKey(userId), type: "account", userId, passwordHash, createdAt },
        ConditionExpression: "attribute_not_exists(pk)",
      }),
    );
  } catch (error) {
    if (isConditionFailed(error)) throw new ConflictError("user_exists", `user ${userId} is already registered`);
    throw error;
  }
  return { createdAt };
}

/**
 * Check a password. Throttled per user id: after `maxFailedLoginsPerWindow` failures in a
 * window every attempt is refused with 429 before any password work is done.
 */
export async function authenticate(db: Db, userId: string, password: string): Promise<void> {
  const now = nowSeconds();
  const windowStart = now - (now % loginWindowSeconds);
  // batchGet retries unprocessed keys: a throttled read must not look like a missing account or no failures.
  const items = await batchGet(db, [accountKey(userId), failureKey(userId, windowStart)], true);
  const account = items.find((item) => item.sk === "ACCOUNT");
  const failures = Number(items.find((item) => item.sk !== "ACCOUNT")?.count ?? 0);
  const retryAfter = windowStart + loginWindowSeconds - now;
  if (failures >= maxFailedLoginsPerWindow) {
    throw new TooManyRequestsError("too_many_login_attempts", `too many failed logins for ${userId}; try again later`, retryAfter);
  }
  const ok = await verifyPassword(password, account ? String(account.passwordHash) : await unknownUserHash());
  if (account && ok) return;
  await db.doc.send(
    new UpdateCommand({
      TableName: db.table,
      Key: failureKey(userId, windowStart),
      UpdateExpression: "ADD #count :one SET #ttl = :ttl, #type = :type",
      ExpressionAttributeNames: { "#count": "count", "#ttl": "ttl", "#type": "type" },
      ExpressionAttributeValues: { ":one": 1, ":ttl": windowStart + 2 * loginWindowSeconds, ":type": "login_failures" },
    }),
  );
  // One message for unknown user and wrong password: ids are not enumerable by login.
  throw new UnauthorizedError("invalid_credentials", "user id or password is wrong");
}
