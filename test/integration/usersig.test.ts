import { describe, expect, it } from "vitest";
import { loginWindowSeconds } from "../../shared/auth/index.js";
import { api, newUser, stackUrl, uniqueUserId } from "../helpers.js";
import { checkUserSig } from "../usersig-decoder.js";

const userSigKey = () => process.env.TENCENT_SECRET_KEY!;

describe("POST /v1/accounts", () => {
  it("registers a user (201) and refuses the same id again (409)", async () => {
    const userId = uniqueUserId();
    const first = await api("POST", "/v1/accounts", { body: { userId, password: "correct horse" } });
    expect(first.status).toBe(201);
    expect(first.body).toEqual({ userId, createdAt: expect.any(String) });
    const again = await api("POST", "/v1/accounts", { body: { userId, password: "another password" } });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe("user_exists");
  });

  it.each([
    ["a userId with a space", { userId: "al ice", password: "correct horse" }, /userId/],
    ["a userId over 32 bytes", { userId: "a".repeat(33), password: "correct horse" }, /userId/],
    ["a userId with non-ASCII", { userId: "李雷", password: "correct horse" }, /userId/],
    ["a short password", { userId: "ok_user", password: "short" }, /password: must be at least 8/],
    ["a missing password", { userId: "ok_user" }, /password is required/],
    ["a numeric userId", { userId: 42, password: "correct horse" }, /userId/],
    ["an extra field", { userId: "ok_user", password: "correct horse", role: "admin" }, /unknown field: role/],
  ])("rejects %s with 400 and writes nothing", async (_case, body, message) => {
    const response = await api("POST", "/v1/accounts", { body });
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: "invalid_request", message: expect.stringMatching(message) });
    // Nothing was written: the id can still be registered, and logging in with it fails.
    if (typeof (body as { userId?: unknown }).userId === "string" && (body as { userId: string }).userId === "ok_user") {
      const login = await api("POST", "/v1/sessions", { body: { userId: "ok_user", password: "correct horse" } });
      expect(login.status).toBe(401);
    }
  });

  it("rejects malformed JSON, a form body and an oversize body", async () => {
    const malformed = await api("POST", "/v1/accounts", { rawBody: '{"userId":', headers: { "content-type": "application/json" } });
    expect([malformed.status, malformed.body.error.code]).toEqual([400, "invalid_json"]);
    const form = await api("POST", "/v1/accounts", { rawBody: "userId=a&password=b", headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect([form.status, form.body.error.code]).toEqual([415, "unsupported_media_type"]);
    const huge = await api("POST", "/v1/accounts", { body: { userId: uniqueUserId(), password: "x".repeat(100_000) } });
    expect([huge.status, huge.body.error.code]).toEqual([413, "payload_too_large"]);
  });
});

describe("POST /v1/sessions", () => {
  it("logs in with the right password and refuses a wrong one or an unknown user alike", async () => {
    const { userId, password } = await newUser();
    const ok = await api("POST", "/v1/sessions", { body: { userId, password } });
    expect(ok.status).toBe(201);
    expect(ok.body.token).toMatch(/^[\w-]{43}$/);
    expect(Date.parse(ok.body.expiresAt)).toBeGreaterThan(Date.now());
    const wrong = await api("POST", "/v1/sessions", { body: { userId, password: password + "x" } });
    const unknown = await api("POST", "/v1/sessions", { body: { userId: uniqueUserId(), password } });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body).toEqual(unknown.body);
  });

  it("throttles a user id after 10 failed logins with 429 and Retry-After, even for the right password", async () => {
    // Failures count in fixed windows: start in one that does not end during the test's 11 logins.
    const leftInWindow = loginWindowSeconds - (Math.floor(Date.now() / 1000) % loginWindowSeconds);
    if (leftInWindow < 20) await new Promise((resolve) => setTimeout(resolve, (leftInWindow + 1) * 1000));
    const { userId, password } = await newUser();
    for (let attempt = 0; attempt < 10; attempt++) {
      const failed = await api("POST", "/v1/sessions", { body: { userId, password: `wrong-${attempt}-password` } });
      expect(failed.status).toBe(401);
    }
    const throttled = await api("POST", "/v1/sessions", { body: { userId, password } });
    expect(throttled.status).toBe(429);
    expect(throttled.body.error.code).toBe("too_many_login_attempts");
    expect(Number(throttled.headers.get("retry-after"))).toBeGreaterThan(0);
    // Another user is not affected.
    const other = await newUser();
    expect((await api("POST", "/v1/sessions", { body: { userId: other.userId, password: other.password } })).status).toBe(201);
    // Up to 20 s waiting for a fresh window, then 13 scrypts on a 2-core machine.
  }, 90_000);
});

describe("POST /v1/usersig", () => {
  it("issues a UserSig for the caller that verifies independently, expiresAt = time + expire", async () => {
    const { userId, token } = await newUser();
    const response = await api("POST", "/v1/usersig", { token });
    expect(response.status).toBe(200);
    const { sdkAppId, userSig, expiresAt } = response.body;
    expect(response.body.userId).toBe(userId);
    expect(sdkAppId).toBe(Number(process.env.TENCENT_SDKAPPID));
    const checked = checkUserSig(userSig, userSigKey());
    expect(checked.signatureValid).toBe(true);
    expect(checked.doc["TLS.identifier"]).toBe(userId);
    expect(checked.doc["TLS.sdkappid"]).toBe(sdkAppId);
    expect(checked.doc["TLS.expire"]).toBe(Number(process.env.USERSIG_TTL_SECONDS));
    expect(Date.parse(expiresAt)).toBe(checked.expiresAtSeconds * 1000);
  });

  it.each([
    ["no Authorization header", undefined, "missing_token"],
    ["a malformed header", { authorization: "Token abc" }, "invalid_token"],
    ["an unknown token", { authorization: "Bearer AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" }, "invalid_token"],
  ])("refuses %s with 401", async (_case, headers, code) => {
    const response = await api("POST", "/v1/usersig", { headers });
    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe(code);
    expect(response.headers.get("www-authenticate")).toBe("Bearer");
  });
});

describe("DELETE /v1/sessions/current", () => {
  it("logs out: the token stops working at once, other sessions live on", async () => {
    const { userId, password, token } = await newUser();
    const second = (await api("POST", "/v1/sessions", { body: { userId, password } })).body.token as string;
    expect((await api("DELETE", "/v1/sessions/current", { token })).status).toBe(204);
    expect((await api("POST", "/v1/usersig", { token })).status).toBe(401);
    expect((await api("DELETE", "/v1/sessions/current", { token })).status).toBe(401);
    expect((await api("POST", "/v1/usersig", { token: second })).status).toBe(200);
  });
});

describe("routing", () => {
  it("answers unknown routes with 404 and wrong methods with 405, in the envelope", async () => {
    const missing = await api("GET", "/v1/nowhere");
    expect([missing.status, missing.body.error.code]).toEqual([404, "route_not_found"]);
    const wrong = await api("GET", "/v1/usersig");
    expect([wrong.status, wrong.body.error.code]).toEqual([405, "method_not_allowed"]);
    expect(wrong.headers.get("allow")).toBe("POST");
  });

  it("serves /healthz and an OpenAPI 3.1 document with the usersig routes", async () => {
    expect((await api("GET", "/healthz")).status).toBe(200);
    const doc = await api("GET", "/openapi.json");
    expect(doc.body.openapi).toBe("3.1.0");
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(["/v1/accounts", "/v1/sessions", "/v1/sessions/current", "/v1/usersig"]));
    expect(doc.body.components.schemas.Credentials.required).toEqual(["userId", "password"]);
  });

  it("names each path's function as a server variable, the leaderboard's being wallet's", async () => {
    const { body } = await api("GET", "/openapi.json");
    const variableOf = (path: string) => Object.keys(body.paths[path].servers[0].variables);
    expect(body.servers).toEqual([expect.objectContaining({ url: stackUrl() })]);
    expect(variableOf("/v1/usersig")).toEqual(["usersigUrl"]);
    expect(variableOf("/v1/rooms/{roomId}")).toEqual(["roomsUrl"]);
    expect(variableOf("/v1/rooms/{roomId}/leaderboard")).toEqual(["walletUrl"]);
    expect(variableOf("/v1/callbacks/im")).toEqual(["imCallbackUrl"]);
    expect(variableOf("/v1/callbacks/vod")).toEqual(["liveCallbackUrl"]);
    for (const item of Object.values(body.paths) as { servers: { url: string; variables: Record<string, { default: string }> }[] }[]) {
      const [server] = item.servers;
      expect(server!.url).toBe(`{${Object.keys(server!.variables)[0]}}`);
      expect(Object.values(server!.variables)[0]!.default).toBe(stackUrl());
    }
  });
});
