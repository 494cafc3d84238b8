import { createHash, randomBytes } from "node:crypto";
import { DeleteCommand, GetCommand, PutCommand } from "../db/commands.js";
import { nowSeconds, type Db } from "../db/index.js";

/**
 * Sessions: the token is 32 random bytes handed to the client once; the table keeps only its
 * SHA-256, so a leaked table (or log) cannot be replayed as a login.
 *
 * Item: pk `SESSION#<sha256(token)>`, sk `SESSION` → { userId, expiresAt, ttl }.
 *
 * A logged-out app JWT gets the same key with `revoked: true` until its own `exp`, so logout
 * means the same for both kinds of token: it stops working at once.
 */
export interface Session {
  userId: string;
  expiresAtSeconds: number;
}

const sessionKey = (token: string) => ({
  pk: `SESSION#${createHash("sha256").update(token).digest("base64url")}`,
  sk: "SESSION",
});

export async function createSession(db: Db, userId: string, ttlSeconds: number): Promise<{ token: string; expiresAtSeconds: number }> {
  const token = randomBytes(32).toString("base64url");
  const expiresAtSeconds = nowSeconds() + ttlSeconds;
  await db.doc.send(
    new PutCommand({
      TableName: db.table,
      Item: { ...sessionKey(token), type: "session", userId, expiresAt: expiresAtSeconds, ttl: expiresAtSeconds },
    }),
  );
  return { token, expiresAtSeconds };
}

/** The live session for `token`, or undefined when unknown, logged out or expired. */
export async function findSession(db: Db, token: string): Promise<Session | undefined> {
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: sessionKey(token) }));
  if (!Item || typeof Item.userId !== "string") return undefined;
  // TTL deletion lags by up to days; expiry is decided here.
  if (Item.expiresAt <= nowSeconds()) return undefined;
  return { userId: Item.userId, expiresAtSeconds: Item.expiresAt };
}

/**
 * A JWT is revoked by what it signs (header and claims), not by its text: base64url lets one
 * signature be written several ways, and each must stay logged out.
 */
const revokedJwtKey = (token: string) => sessionKey(token.slice(0, token.lastIndexOf(".")));

/** Refuse an app JWT from now until it expires by itself. */
export async function revokeJwt(db: Db, token: string, expiresAtSeconds: number): Promise<void> {
  await db.doc.send(
    new PutCommand({ TableName: db.table, Item: { ...revokedJwtKey(token), type: "revoked_jwt", revoked: true, ttl: expiresAtSeconds + 60 } }),
  );
}

export async function isJwtRevoked(db: Db, token: string): Promise<boolean> {
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: revokedJwtKey(token) }));
  return Item?.revoked === true;
}

export async function deleteSession(db: Db, token: string): Promise<void> {
  await db.doc.send(new DeleteCommand({ TableName: db.table, Key: sessionKey(token) }));
}
