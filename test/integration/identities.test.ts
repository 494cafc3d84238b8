import { PutCommand } from "../../shared/db/commands.js";
import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { hashPassword, loginWindowSeconds, reservedAccounts } from "../../shared/auth/index.js";
import { getConfig } from "../../shared/config/index.js";
import { createUserSigApp } from "../../functions/usersig/app.js";
import { api, apiFrom, getItem, newUser, testDb, uniqueUserId } from "../helpers.js";
import { testJwtSecret } from "../jwt-secret.js";

const password = "correct horse battery";
const jwtFor = (claims: { sub?: string; exp?: string | number }) => {
  let jwt = new SignJWT({}).setProtectedHeader({ alg: "HS256" }).setIssuedAt();
  if (claims.sub !== undefined) jwt = jwt.setSubject(claims.sub);
  if (claims.exp !== undefined) jwt = jwt.setExpirationTime(claims.exp);
  return jwt.sign(new TextEncoder().encode(testJwtSecret));
};

describe("reserved identities", () => {
  it.each(["administrator", "Administrator", "ADMINISTRATOR", "onair_recorder_100001", "Onair_relay", "__proto__"])(
    "refuses to register %s (400 reserved_user_id) and writes nothing",
    async (userId) => {
      const response = await api("POST", "/v1/accounts", { body: { userId, password } });
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe("reserved_user_id");
      expect(response.body.error.message).toContain(userId);
      expect(await getItem({ pk: `USER#${userId}`, sk: "ACCOUNT" })).toBeUndefined();
    },
  );

  it("gives an administrator account registered before the rule no session, no UserSig, and names it", async () => {
    const db = testDb();
    await db.doc.send(new PutCommand({ TableName: db.table, Item: { pk: "USER#administrator", sk: "ACCOUNT", type: "account", userId: "administrator", passwordHash: await hashPassword(password), createdAt: new Date().toISOString() } }));
    expect(await reservedAccounts(db, getConfig().imAdminUsers)).toEqual(["administrator"]);
    db.doc.destroy();
    const login = await api("POST", "/v1/sessions", { body: { userId: "administrator", password } });
    expect([login.status, login.body.error.code]).toEqual([403, "reserved_identity"]);
  });

  it.each(["administrator", "onair_recorder_100001"])("issues no UserSig to an app JWT whose sub is %s", async (sub) => {
    const response = await api("POST", "/v1/usersig", { token: await jwtFor({ sub, exp: "1h" }) });
    expect([response.status, response.body.error.code]).toEqual([403, "reserved_identity"]);
  });
});

describe("app JWTs", () => {
  it("refuses a JWT without exp, which would never expire", async () => {
    const response = await api("POST", "/v1/usersig", { token: await jwtFor({ sub: uniqueUserId() }) });
    expect([response.status, response.body.error.code]).toEqual([401, "invalid_token"]);
  });

  it("refuses an expired JWT and one without sub", async () => {
    const expired = await api("POST", "/v1/usersig", { token: await jwtFor({ sub: uniqueUserId(), exp: Math.floor(Date.now() / 1000) - 120 }) });
    const anonymous = await api("POST", "/v1/usersig", { token: await jwtFor({ exp: "1h" }) });
    expect([expired.status, anonymous.status]).toEqual([401, 401]);
  });

  it("logs a JWT out: that token stops working at once, another of the same user does not", async () => {
    const userId = uniqueUserId();
    const token = await jwtFor({ sub: userId, exp: "1h" });
    const other = await jwtFor({ sub: userId, exp: "2h" });
    expect((await api("POST", "/v1/usersig", { token })).status).toBe(200);
    expect((await api("DELETE", "/v1/sessions/current", { token })).status).toBe(204);
    expect((await api("POST", "/v1/usersig", { token })).status).toBe(401);
    expect((await api("GET", "/v1/rooms", { token })).status).toBe(401);
    expect((await api("POST", "/v1/usersig", { token: other })).status).toBe(200);
  });

  it("keeps a logged-out JWT out however its signature's last character is written", async () => {
    const token = await jwtFor({ sub: uniqueUserId(), exp: "1h" });
    expect((await api("DELETE", "/v1/sessions/current", { token })).status).toBe(204);
    // The last base64url character of a 32-byte signature carries 2 unused bits: 4 spellings, one signature.
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const last = alphabet.indexOf(token.at(-1)!);
    const spellings = [0, 1, 2, 3].map((low) => token.slice(0, -1) + alphabet[(last & ~3) | low]).filter((variant) => variant !== token);
    expect(spellings).toHaveLength(3);
    for (const variant of spellings) expect((await api("POST", "/v1/usersig", { token: variant })).status).toBe(401);
  });

  it("refuses a JWT that expires more than 30 days ahead", async () => {
    const response = await api("POST", "/v1/usersig", { token: await jwtFor({ sub: uniqueUserId(), exp: Math.floor(Date.now() / 1000) + 31 * 86_400 }) });
    expect(response.status).toBe(401);
  });
});

/** Limits count in fixed windows: start in one that does not end during the test. */
async function awaitWindowWithRoom(seconds: number) {
  const left = loginWindowSeconds - (Math.floor(Date.now() / 1000) % loginWindowSeconds);
  if (left < seconds) await new Promise((resolve) => setTimeout(resolve, (left + 1) * 1000));
}

describe("login throttling", () => {
  it("judges at most 10 of 300 parallel guesses from one address, and never locks the user out of another", async () => {
    await awaitWindowWithRoom(25);
    const { userId, password: right } = await newUser();
    const guesses = await Promise.all(
      Array.from({ length: 300 }, (_, i) => apiFrom("127.0.0.7", "POST", "/v1/sessions", { body: { userId, password: `guess-number-${i}` } })),
    );
    const statuses = guesses.map((guess) => guess.status);
    expect(statuses.filter((status) => status === 401).length).toBeLessThanOrEqual(10);
    expect(statuses.filter((status) => status === 429).length).toBeGreaterThanOrEqual(290);
    expect(statuses.every((status) => status === 401 || status === 429)).toBe(true);
    const throttled = guesses.find((guess) => guess.status === 429)!;
    expect(throttled.body.error.code).toBe("too_many_login_attempts");
    expect(Number(throttled.headers.get("retry-after"))).toBeGreaterThan(0);

    // The attacker's address stays throttled, even with the right password...
    expect((await apiFrom("127.0.0.7", "POST", "/v1/sessions", { body: { userId, password: right } })).status).toBe(429);
    // ...while the user, from their own network, logs in.
    expect((await apiFrom("127.0.0.8", "POST", "/v1/sessions", { body: { userId, password: right } })).status).toBe(201);
    // Up to 25 s waiting for a fresh window, then 300 requests on a 2-core machine.
  }, 90_000);

  it("does not count successful logins", async () => {
    const { userId, password: right } = await newUser();
    for (let i = 0; i < 12; i++) expect((await apiFrom("127.0.0.9", "POST", "/v1/sessions", { body: { userId, password: right } })).status).toBe(201);
  }, 60_000);
});

describe("registration spam", () => {
  it("limits accounts per client IP per hour with 429 and Retry-After, and writes nothing past it", async () => {
    const config = { ...getConfig(), registrationsPerIpPerHour: 3 };
    const db = testDb();
    const app = createUserSigApp({ db, config });
    const register = (userId: string, clientIp: string) =>
      app.request("/v1/accounts", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ userId, password }) }, { requestId: "t", clientIp });
    const ip = `198.51.100.${Math.floor(Math.random() * 250)}`;
    for (let i = 0; i < 3; i++) expect((await register(uniqueUserId("spam"), ip)).status).toBe(201);
    const refusedId = uniqueUserId("spam");
    const refused = await register(refusedId, ip);
    expect(refused.status).toBe(429);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("too_many_registrations");
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await getItem({ pk: `USER#${refusedId}`, sk: "ACCOUNT" })).toBeUndefined();
    expect((await register(uniqueUserId("spam"), `203.0.113.${Math.floor(Math.random() * 250)}`)).status).toBe(201);
    db.doc.destroy();
  });
});
