import { GetCommand, PutCommand } from "../db/commands.js";
import { batchGet, isConditionFailed, type Db } from "../db/index.js";
import { ConflictError, TooManyRequestsError, UnauthorizedError } from "../errors/index.js";
import { defaultImAdminUser } from "./identifiers.js";
import { hashPassword, unknownUserHash, verifyPassword } from "./passwords.js";
import { takeSlot, type Limit, type Slot } from "./rate-limit.js";

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

/**
 * The network a client IP stands for: the address itself for IPv4, its /64 for IPv6 (one
 * subscriber's whole prefix). Events without an address share a single allowance.
 */
export function networkOf(clientIp: string | undefined): string {
  if (!clientIp) return "unknown";
  if (!clientIp.includes(":")) return clientIp;
  const [head, tail = ""] = clientIp.toLowerCase().split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups = clientIp.includes("::") ? [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill("0"), ...right] : left;
  return `${groups.slice(0, 4).map((group) => group.replace(/^0+(?=.)/, "")).join(":")}::/64`;
}

export async function registerAccount(db: Db, userId: string, password: string, limits: { clientIp?: string; perIpPerHour: number }): Promise<{ createdAt: string }> {
  const slot = await takeSlot(db, { name: `register:${networkOf(limits.clientIp)}`, max: limits.perIpPerHour, windowSeconds: 3600 });
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
  const network = networkOf(clientIp);
  // The user's own limit first: attempts it refuses use none of the network's shared allowance.
  const limits: Limit[] = [
    { name: `login:${userId}:${network}`, max: maxFailedLoginsPerWindow, windowSeconds: loginWindowSeconds },
    { name: `loginip:${network}`, max: maxLoginsPerIpPerWindow, windowSeconds: loginWindowSeconds },
  ];
  const slots: Extract<Slot, { taken: true }>[] = [];
  for (const limit of limits) {
    const slot = await takeSlot(db, limit);
    if (!slot.taken) {
      await Promise.all(slots.map((taken) => taken.release()));
      throw new TooManyRequestsError("too_many_login_attempts", `too many login attempts for ${userId} from this network; try again later`, slot.retryAfterSeconds);
    }
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
