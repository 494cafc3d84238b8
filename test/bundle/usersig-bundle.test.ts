import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { ScfHttpEvent, ScfHttpResult } from "../../shared/http/index.js";
import { uniqueUserId } from "../helpers.js";
import { checkUserSig } from "../usersig-decoder.js";

// `npm test` builds first; this loads the deployable CommonJS bundle as SCF's runtime would.
const bundlePath = join(import.meta.dirname, "../../dist/usersig/index.js");
const require = createRequire(import.meta.url);

type Handler = (event: ScfHttpEvent, context: { request_id: string }) => Promise<ScfHttpResult>;

describe("dist/usersig/index.js", () => {
  it("exists (run `npm run build`)", () => {
    expect(existsSync(bundlePath)).toBe(true);
  });

  const { main_handler } = require(bundlePath) as { main_handler: Handler };
  const invoke = (event: Partial<ScfHttpEvent> & { httpMethod: string; path: string }) =>
    main_handler({ headers: {}, queryString: {}, ...event }, { request_id: `bundle-${Math.random()}` });
  const jsonHeaders = { "content-type": "application/json", "x-scf-remote-addr": "203.0.113.7", host: "1250000000-x.ap-guangzhou.tencentscf.com" };

  // DynamoDB's answer to a failed condition, read in the minified bundle.
  it("answers 409 user_exists to a second registration of the same id", async () => {
    const body = JSON.stringify({ userId: uniqueUserId("bundle_twice"), password: "bundle password" });
    expect((await invoke({ httpMethod: "POST", path: "/v1/accounts", headers: jsonHeaders, body })).statusCode).toBe(201);
    const again = await invoke({ httpMethod: "POST", path: "/v1/accounts", headers: jsonHeaders, body });
    expect([again.statusCode, JSON.parse(again.body).error.code]).toEqual([409, "user_exists"]);
  });

  it("registers, logs in and issues a UserSig from Function URL events", async () => {
    const userId = uniqueUserId("bundle");
    const password = "bundle password";
    const registered = await invoke({ httpMethod: "POST", path: "/v1/accounts", headers: jsonHeaders, body: JSON.stringify({ userId, password }) });
    expect(registered.statusCode).toBe(201);
    expect(registered.headers["content-type"]).toMatch(/application\/json/);
    expect(registered.isBase64Encoded).toBe(false);

    // Base64 body, as the platform sends when it cannot pass text.
    const login = await invoke({
      httpMethod: "POST",
      path: "/v1/sessions",
      headers: jsonHeaders,
      body: Buffer.from(JSON.stringify({ userId, password })).toString("base64"),
      isBase64Encoded: true,
    });
    expect(login.statusCode).toBe(201);
    const { token } = JSON.parse(login.body);

    const sig = await invoke({ httpMethod: "POST", path: "/v1/usersig", headers: { ...jsonHeaders, authorization: `Bearer ${token}` } });
    expect(sig.statusCode).toBe(200);
    const { userSig, expiresAt } = JSON.parse(sig.body);
    const checked = checkUserSig(userSig, process.env.TENCENT_SECRET_KEY!);
    expect(checked.signatureValid).toBe(true);
    expect(checked.doc["TLS.identifier"]).toBe(userId);
    expect(Date.parse(expiresAt)).toBe(checked.expiresAtSeconds * 1000);
  });

  it("answers bad input, unknown routes and wrong methods with the envelope, never 500", async () => {
    const cases: [Partial<ScfHttpEvent> & { httpMethod: string; path: string }, number, string][] = [
      [{ httpMethod: "POST", path: "/v1/accounts", headers: jsonHeaders, body: "{nope" }, 400, "invalid_json"],
      [{ httpMethod: "POST", path: "/v1/accounts", headers: jsonHeaders, body: '{"userId":"x"}' }, 400, "invalid_request"],
      [{ httpMethod: "POST", path: "/v1/accounts", headers: jsonHeaders, body: JSON.stringify({ userId: "x", password: "y".repeat(20_000) }) }, 413, "payload_too_large"],
      [{ httpMethod: "GET", path: "/v1/elsewhere" }, 404, "route_not_found"],
      [{ httpMethod: "PUT", path: "/v1/sessions" }, 405, "method_not_allowed"],
      [{ httpMethod: "POST", path: "/v1/usersig" }, 401, "missing_token"],
    ];
    for (const [event, status, code] of cases) {
      const result = await invoke(event);
      expect([result.statusCode, JSON.parse(result.body).error.code]).toEqual([status, code]);
    }
  });

  it("accepts the legacy API Gateway event shape", async () => {
    const result = await main_handler(
      {
        httpMethod: "GET",
        path: "/v1/usersig",
        headers: {},
        requestContext: { httpMethod: "GET", path: "/v1/usersig", sourceIp: "1.2.3.4" },
        queryStringParameters: {},
        isBase64Encoded: false,
        body: null,
      },
      { request_id: "legacy" },
    );
    expect(result.statusCode).toBe(405);
  });
});
