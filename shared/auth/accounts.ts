import { GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { batchGet, isConditionFailed, type Db } from "../db/index.js";
import { ConflictError, TooManyRequestsError, UnauthorizedError } from "../errors/index.js";
import { defaultImAdminUser } from "./identifiers.js";
import { hashPassword, unknownUserHash, verifyPassword } from "./passwords.js";
import { takeSlot, type Limit } from "./rate-limit.js";

/**
 * Accounts, and the limits that keep password guessing and sign-up spam slow.
 *
 * Item: pk `USER#<userId>`, sk `ACCOUNT` → { passwordHash, createdAt }.
 *
 * Login limits are keyed by client IP, so a stranger who knows a user id (ids are public in
 * member lists and leaderboards) exhausts only their own allowance and can never lock the user
 * out from the user's own network:
 * - `maxFailedLoginsPerWindow` failures per user id per client IP;
 * - `maxLoginsPerIpPerWindow` failures per client IP over all user ids (password spraying).
 * An attempt holds a slot of each while it is judged; a success gives both back.
 */
export const maxFailedLoginsPerWindow = 10;
export const maxLoginsPerIpPerWindow = 100;
export const loginWindowSeconds = 15 * 60;

const accountKey = (userId: string) => ({ pk: `USER#${userId}`, sk: "ACCOUNT" });

/** Client IP as the trigger reports it; events without one share a single allowance. */
const ipOf = (clientIp: string | undefined) => clientIp ?? "unknown";

export async function registerAccount(db: Db, userId: string, password: string, limits: { clientIp?: string; perIpPerHour: number }): Promise<{ createdAt: string }> {
  const slot = await takeSlot(db, { name: `register:${ipOf(limits.clientIp)}`, max: limits.perIpPerHour, windowSeconds: 3600 });
  if (!slot.taken) throw new TooManyRequestsError("too_many_registrations", "too many accounts registered from this network; try again later", slot.retryAfterSeconds);
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
 * Check a password. Each attempt takes a slot of both login limits before any password work,
 * so however many guesses arrive at once, at most the limit of them is ever judged.
 */
export async function authenticate(db: Db, userId: string, password: string, clientIp?: string): Promise<void> {
  const ip = ipOf(clientIp);
  const limits: Limit[] = [
    { name: `loginip:${ip}`, max: maxLoginsPerIpPerWindow, windowSeconds: loginWindowSeconds },
    { name: `login:${userId}:${ip}`, max: maxFailedLoginsPerWindow, windowSeconds: loginWindowSeconds },
  ];
  const slots = [];
  for (const limit of limits) {
    const slot = await takeSlot(db, limit);
    if (!slot.taken) throw new TooManyRequestsError("too_many_login_attempts", `too many login attempts for ${userId} from this network; try again later`, slot.retryAfterSeconds);
    slots.push(slot);
  }
  const { Item: account } = await db.doc.send(new GetCommand({ TableName: db.table, Key: accountKey(userId), ConsistentRead: true }));
  const ok = await verifyPassword(password, account ? String(account.passwordHash) : await unknownUserHash());
  if (account && ok) {
    // Only failures count: a user who logs in often is never throttled for it.
    await Promise.all(slots.map((slot) => slot.release()));
    return;
  }
  // One message for unknown user and wrong password: ids are not enumerable by login.
  throw new UnauthorizedError("invalid_credentials", "user id or password is wrong");
}

/**
 * Accounts registered under an IM admin's id before reserved ids were refused. No token may act
 * as a reserved identity, so they are harmless, but an operator should delete them: the
 * functions name them at cold start.
 */
export async function reservedAccounts(db: Db, imAdminUsers: readonly string[]): Promise<string[]> {
  const ids = [...new Set([defaultImAdminUser, ...imAdminUsers])];
  const items = await batchGet(db, ids.map(accountKey), false);
  return items.map((item) => String(item.userId));
}
