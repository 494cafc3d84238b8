import { SignJWT } from "jose";
import { afterEach, describe, expect, it } from "vitest";
import { createUserSigApp } from "../../functions/usersig/app.js";
import { getConfig, parseConfig } from "../../shared/config/index.js";
import { createDb } from "../../shared/db/index.js";
import { logSink } from "../../shared/log/index.js";
import { uniqueUserId } from "../helpers.js";
import { checkUserSig } from "../usersig-decoder.js";

// Same DynamoDB Local as the stack (the worker inherits its environment), app called in-process.
const config = getConfig();
const db = createDb(config);
const json = (body: unknown, token?: string) => ({
  method: "POST",
  headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
  body: JSON.stringify(body),
});

const originalWrite = logSink.write;
afterEach(() => {
  logSink.write = originalWrite;
  process.env.LOG_LEVEL = "warn";
});

describe("usersig logs", () => {
  it("never contain the password, the session token or the UserSig", async () => {
    const lines: string[] = [];
    logSink.write = (line) => void lines.push(line);
    process.env.LOG_LEVEL = "debug";
    const app = createUserSigApp({ db, config });
    const userId = uniqueUserId();
    const password = "a-very-secret-password";
    expect((await app.request("/v1/accounts", json({ userId, password }))).status).toBe(201);
    await app.request("/v1/sessions", json({ userId, password: "wrong-password-1" }));
    const { token } = (await (await app.request("/v1/sessions", json({ userId, password }))).json()) as { token: string };
    const { userSig } = (await (await app.request("/v1/usersig", json({}, token))).json()) as { userSig: string };
    expect(lines.length).toBeGreaterThanOrEqual(4);
    const all = lines.join("\n");
    for (const secret of [password, "wrong-password-1", token, userSig, config.userSigKey]) expect(all).not.toContain(secret);
    expect(all).toContain(userId);
  });
});

describe("app identity provider mode (AUTH_JWT_SECRET)", () => {
  const jwtSecret = "an-app-jwt-secret-of-32-characters!!";
  const jwtConfig = parseConfig({ ...process.env, AUTH_JWT_SECRET: jwtSecret, AUTH_JWT_ISSUER: "https://id.example.com" });
  const app = createUserSigApp({ db, config: jwtConfig });
  const sign = (claims: { sub?: string; iss?: string; expiresIn?: string }, secret = jwtSecret) => {
    let jwt = new SignJWT({}).setProtectedHeader({ alg: "HS256" }).setIssuedAt().setIssuer(claims.iss ?? "https://id.example.com").setExpirationTime(claims.expiresIn ?? "5m");
    if (claims.sub) jwt = jwt.setSubject(claims.sub);
    return jwt.sign(new TextEncoder().encode(secret));
  };

  it("issues a UserSig for the verified JWT's sub", async () => {
    const userId = uniqueUserId("jwt");
    const response = await app.request("/v1/usersig", json({}, await sign({ sub: userId })));
    expect(response.status).toBe(200);
    const body = (await response.json()) as { userId: string; userSig: string };
    expect(body.userId).toBe(userId);
    expect(checkUserSig(body.userSig, config.userSigKey).doc["TLS.identifier"]).toBe(userId);
  });

  it.each([
    ["a wrong signature", () => sign({ sub: "alice" }, "some-other-secret-of-32-characters!!")],
    ["a wrong issuer", () => sign({ sub: "alice", iss: "https://evil.example.com" })],
    ["an expired token", () => sign({ sub: "alice", expiresIn: "-1m" })],
    ["no sub", () => sign({})],
    ["a sub that is not an IM identifier", () => sign({ sub: "alice smith" })],
  ])("refuses %s with 401", async (_case, make) => {
    const response = await app.request("/v1/usersig", json({}, await make()));
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("invalid_token");
  });
});
