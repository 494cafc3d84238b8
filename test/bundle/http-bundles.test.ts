import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { ScfHttpEvent, ScfHttpResult } from "../../shared/http/index.js";
import { signImCallback } from "../../shared/signatures/index.js";
import { api, jwtUser } from "../helpers.js";

// The other HTTP bundles, loaded as SCF's runtime would, each driven by Function URL events.
const require = createRequire(import.meta.url);
type Handler = (event: ScfHttpEvent, context: { request_id: string }) => Promise<ScfHttpResult>;
const load = (name: string) => (require(join(import.meta.dirname, `../../dist/${name}/index.js`)) as { main_handler: Handler }).main_handler;
const invoke = (handler: Handler, event: Partial<ScfHttpEvent> & { httpMethod: string; path: string }) =>
  handler({ headers: {}, queryString: {}, ...event }, { request_id: `bundle-${Math.random()}` });
const json = (result: ScfHttpResult) => JSON.parse(result.body);

describe("dist/rooms/index.js", () => {
  const rooms = load("rooms");

  it("creates a room, its IM group included, and refuses bad input with the envelope", async () => {
    const host = await jwtUser("bundle_rooms");
    const headers = { "content-type": "application/json", authorization: `Bearer ${host.token}` };
    const created = await invoke(rooms, { httpMethod: "POST", path: "/v1/rooms", headers, body: JSON.stringify({ title: "from the bundle" }) });
    expect(created.statusCode).toBe(201);
    const { roomId } = json(created);
    expect((await api("GET", `/v1/rooms/${roomId}`, { token: host.token })).body).toMatchObject({ title: "from the bundle", status: "created" });
    const bad = await invoke(rooms, { httpMethod: "POST", path: "/v1/rooms", headers, body: JSON.stringify({ title: "" }) });
    expect([bad.statusCode, json(bad).error.code]).toEqual([400, "invalid_request"]);
  });
});

describe("dist/wallet/index.js", () => {
  const wallet = load("wallet");

  it("answers the caller's wallet, and 401 without a token", async () => {
    const user = await jwtUser("bundle_wallet");
    const mine = await invoke(wallet, { httpMethod: "GET", path: "/v1/wallet", headers: { authorization: `Bearer ${user.token}` } });
    expect([mine.statusCode, json(mine)]).toEqual([200, { userId: user.userId, balance: 0, earnings: 0 }]);
    const anonymous = await invoke(wallet, { httpMethod: "GET", path: "/v1/wallet" });
    expect([anonymous.statusCode, json(anonymous).error.code]).toEqual([401, "missing_token"]);
  });

  // DynamoDB's answer to a cancelled transaction, read in the minified bundle: its reasons name the wallet's condition.
  it("refuses a gift over the balance with 402 and charges nothing", async () => {
    const host = await jwtUser("bundle_host");
    const created = await api("POST", "/v1/rooms", { token: host.token, body: { title: "bundle gifts" } });
    await api("POST", `/v1/rooms/${created.body.roomId}/live`, { token: host.token });
    const fan = await jwtUser("bundle_fan");
    const headers = { "content-type": "application/json", authorization: `Bearer ${fan.token}`, "idempotency-key": randomUUID() };
    const refused = await invoke(wallet, { httpMethod: "POST", path: "/v1/wallet/gifts", headers, body: JSON.stringify({ roomId: created.body.roomId, giftId: "rose", count: 1 }) });
    expect([refused.statusCode, json(refused).error.code]).toEqual([402, "insufficient_balance"]);
    expect((await api("GET", "/v1/wallet", { token: fan.token })).body.balance).toBe(0);
  });
});

describe("a bundle deployed without its jose.js", () => {
  // jose sits beside the bundle and loads on the first app JWT (scripts/build.ts): without the
  // file, every JWT would read as a bad token, so the deploy's fault is a 500 and a log line instead.
  it("answers a good app JWT with 500 internal_error, not 401, and logs why", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wallet-without-jose-"));
    cpSync(join(import.meta.dirname, "../../dist/wallet"), dir, { recursive: true });
    rmSync(join(dir, "jose.js"));
    const user = await jwtUser("bundle_nojose");
    const logged: string[] = [];
    const write = process.stdout.write;
    process.stdout.write = ((chunk: string) => logged.push(String(chunk)) > 0) as typeof process.stdout.write;
    try {
      const wallet = (require(join(dir, "index.js")) as { main_handler: Handler }).main_handler;
      const answer = await invoke(wallet, { httpMethod: "GET", path: "/v1/wallet", headers: { authorization: `Bearer ${user.token}` } });
      expect([answer.statusCode, json(answer).error.code]).toEqual([500, "internal_error"]);
    } finally {
      process.stdout.write = write;
      rmSync(dir, { recursive: true, force: true });
    }
    expect(logged.join("")).toMatch(/"level":"error","time":"[^"]+","message":"unhandled error".*jose\.js/);
  });
});

describe("dist/im-callback/index.js", () => {
  const imCallback = load("im-callback");
  const query = (sign: { Sign: string; RequestTime: string }) => ({ SdkAppid: process.env.TENCENT_SDKAPPID!, CallbackCommand: "C2C.CallbackAfterSendMsg", contenttype: "json", ...sign });
  const body = JSON.stringify({ CallbackCommand: "C2C.CallbackAfterSendMsg", From_Account: "a", To_Account: "b" });

  it("acknowledges a signed callback in IM's reply shape and refuses a forged one", async () => {
    const now = Math.floor(Date.now() / 1000);
    const signed = await invoke(imCallback, { httpMethod: "POST", path: "/v1/callbacks/im", headers: { "content-type": "application/json" }, queryString: query(signImCallback(process.env.IM_CALLBACK_TOKEN!, now)), body });
    expect([signed.statusCode, json(signed)]).toEqual([200, { ActionStatus: "OK", ErrorInfo: "", ErrorCode: 0 }]);
    const forged = await invoke(imCallback, { httpMethod: "POST", path: "/v1/callbacks/im", headers: { "content-type": "application/json" }, queryString: query(signImCallback("not-the-token", now)), body });
    expect([forged.statusCode, json(forged).error.code]).toEqual([401, "invalid_callback_signature"]);
  });
});

describe("the HTTP bundles' answers", () => {
  // Hono builds answers with the light Response of scripts/bundle-shims/light-response.ts: undici's,
  // whose first use loads its fetch, cost a cold start 30-50 ms before its first answer. Web Crypto
  // (the global `crypto`) loaded with the bundle until scripts/bundle-shims/smithy-uuid.ts.
  const answerInFreshProcess = (name: string, event: object) => {
    const code = `const { main_handler } = require(${JSON.stringify(join(import.meta.dirname, `../../dist/${name}/index.js`))});
main_handler(${JSON.stringify({ headers: {}, queryString: {}, ...event })}, { request_id: "fresh" }).then((result) =>
  process.stdout.write(JSON.stringify({ status: result.statusCode, code: JSON.parse(result.body).error?.code, undici: process.moduleLoadList.some((module) => module.includes("undici")), webCrypto: process.moduleLoadList.some((module) => module.includes("crypto/webcrypto")) })));`;
    return JSON.parse(execFileSync(process.execPath, ["-e", code], { env: { ...process.env, LOG_LEVEL: "error" }, encoding: "utf8" }));
  };

  it.each([
    ["usersig", { httpMethod: "POST", path: "/v1/usersig" }, 401, "missing_token"],
    ["wallet", { httpMethod: "GET", path: "/v1/wallet" }, 401, "missing_token"],
    ["rooms", { httpMethod: "GET", path: "/v1/rooms/abc" }, 401, "missing_token"],
    ["rooms", { httpMethod: "GET", path: "/v1/nowhere" }, 404, "route_not_found"],
    ["im-callback", { httpMethod: "POST", path: "/v1/callbacks/im", headers: { "content-type": "application/json" }, body: "{}" }, 401, "invalid_callback_signature"],
    ["live-callback", { httpMethod: "POST", path: "/v1/callbacks/live", headers: { "content-type": "application/json" }, body: "{}" }, 401, "invalid_callback_signature"],
  ])("%s answers a cold process's first request without loading undici or Web Crypto", (name, event, status, code) => {
    expect(answerInFreshProcess(name, event)).toEqual({ status, code, undici: false, webCrypto: false });
  });
});
