import { afterEach, beforeEach, describe, expect, it } from "vitest";
import * as z from "zod/mini";
import { ConflictError } from "../../shared/errors/index.js";
import { createApp, createRoute, maxBodyBytes } from "../../shared/http/index.js";
import { logSink } from "../../shared/log/index.js";

function testApp() {
  const app = createApp({ service: "test" });
  const route = createRoute({
    method: "post",
    path: "/v1/things/{thingId}",
    operationId: "createThing",
    summary: "Create a thing",
    security: [],
    request: () => ({
      params: z.object({ thingId: z.string().check(z.regex(/^\d+$/)) }),
      body: { required: true, content: { "application/json": { schema: z.strictObject({ name: z.string().check(z.minLength(1)), count: z.number().check(z.int()) }) } } },
    }),
    responses: () => ({ 201: { description: "ok" } }),
  });
  app.openapi(route, (c) => c.json({ ok: true, ...c.req.valid("json") }, 201));
  app.get("/boom", () => {
    throw new Error("secret internal detail");
  });
  app.get("/conflict", () => {
    throw new ConflictError("already_there", "it is already there");
  });
  return app;
}

const post = (body: string | undefined, headers: Record<string, string> = { "content-type": "application/json" }, path = "/v1/things/7") =>
  testApp().request(path, { method: "POST", body, headers });

let lines: string[] = [];
const originalWrite = logSink.write;
beforeEach(() => {
  lines = [];
  process.env.LOG_LEVEL = "info";
  logSink.write = (line) => void lines.push(line);
});
afterEach(() => {
  logSink.write = originalWrite;
  process.env.LOG_LEVEL = "warn";
});

describe("error envelope", () => {
  it.each([
    ["malformed JSON", '{"name":', 400, "invalid_json", /not valid JSON/],
    ["a missing field", '{"name":"a"}', 400, "invalid_request", /count is required/],
    ["an extra field", '{"name":"a","count":1,"admin":true}', 400, "invalid_request", /unknown field: admin/],
    ["a wrong type", '{"name":"a","count":"1"}', 400, "invalid_request", /^count: /],
    ["a non-object body", "[1,2]", 400, "invalid_request", /JSON object/],
    ["an empty body", "", 400, "invalid_json", /not valid JSON/],
  ])("rejects %s with 400 naming the problem", async (_case, body, status, code, message) => {
    const response = await post(body);
    expect(response.status).toBe(status);
    const json = (await response.json()) as { error: { code: string; message: string } };
    expect(json.error.code).toBe(code);
    expect(json.error.message).toMatch(message);
  });

  it("rejects a bad path parameter", async () => {
    const response = await post('{"name":"a","count":1}', undefined, "/v1/things/abc");
    expect(response.status).toBe(400);
    expect(((await response.json()) as any).error).toMatchObject({ code: "invalid_parameter", message: expect.stringMatching(/thingId/) });
  });

  it("rejects a non-JSON content type with 415", async () => {
    const response = await post("name=a", { "content-type": "application/x-www-form-urlencoded" });
    expect(response.status).toBe(415);
    expect(((await response.json()) as any).error.code).toBe("unsupported_media_type");
  });

  it("rejects an oversize body with 413", async () => {
    const response = await post(JSON.stringify({ name: "x".repeat(maxBodyBytes), count: 1 }));
    expect(response.status).toBe(413);
    expect(((await response.json()) as any).error.code).toBe("payload_too_large");
  });

  it("answers 404 for unknown routes and 405 with Allow for wrong methods", async () => {
    const app = testApp();
    const missing = await app.request("/v1/nothing");
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as any).error.code).toBe("route_not_found");
    const wrongMethod = await app.request("/v1/things/7", { method: "GET" });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get("allow")).toBe("POST");
    expect(((await wrongMethod.json()) as any).error.code).toBe("method_not_allowed");
    // A trailing slash is another path: no route, rather than a 405 that offers POST and refuses it.
    const slashed = await app.request("/v1/things/7/", { method: "GET" });
    expect([slashed.status, ((await slashed.json()) as any).error.code]).toEqual([404, "route_not_found"]);
    expect((await app.request("/v1/things/7/", { method: "POST" })).status).toBe(404);
  });

  it("maps typed errors to their status and code", async () => {
    const response = await testApp().request("/conflict");
    expect(response.status).toBe(409);
    expect(await response.json()).toEqual({ error: { code: "already_there", message: "it is already there" } });
  });

  it("hides unexpected errors behind a generic 500 and logs them", async () => {
    const response = await testApp().request("/boom");
    expect(response.status).toBe(500);
    const text = await response.text();
    expect(text).not.toContain("secret internal detail");
    expect(JSON.parse(text).error.code).toBe("internal_error");
    expect(lines.some((line) => line.includes("unhandled error"))).toBe(true);
  });

  it("answers every kind of response with the request id", async () => {
    const app = testApp();
    const responses = await Promise.all([
      post('{"name":"a","count":2}'),
      post('{"name":""}'),
      post("x".repeat(maxBodyBytes + 1)),
      app.request("/boom"),
      app.request("/conflict"),
      app.request("/nowhere"),
      app.request("/v1/things/7"),
      app.request("/v1/things/7", { method: "OPTIONS", headers: { origin: "https://elsewhere.example", "access-control-request-method": "POST" } }),
    ]);
    expect(responses.map((response) => response.status)).toEqual([201, 400, 413, 500, 409, 404, 405, 403]);
    for (const response of responses) expect(response.headers.get("x-request-id")).toBeTruthy();
  });

  it("builds a route's request schemas on its first request, once, and its answers' never: a cold start builds none", async () => {
    const built = { request: 0, responses: 0 };
    const app = createApp({ service: "test" });
    const route = createRoute({
      method: "post",
      path: "/v1/counted",
      operationId: "counted",
      summary: "Counted",
      security: [],
      request: () => {
        built.request++;
        return { body: { required: true, content: { "application/json": { schema: z.strictObject({ count: z.number() }) } } } };
      },
      responses: () => {
        built.responses++;
        return { 200: { description: "ok" } };
      },
    });
    app.openapi(route, (c) => c.json(c.req.valid("json"), 200));
    expect(built).toEqual({ request: 0, responses: 0 });
    const send = (body: string) => app.request("/v1/counted", { method: "POST", body, headers: { "content-type": "application/json" } });
    expect([(await send('{"count":1}')).status, (await send('{"count":"x"}')).status, (await send('{"count":2}')).status]).toEqual([200, 400, 200]);
    expect(built).toEqual({ request: 1, responses: 0 });
  });

  it("accepts a valid request and logs one access line with a request id", async () => {
    const response = await post('{"name":"a","count":2}');
    expect(response.status).toBe(201);
    expect(response.headers.get("x-request-id")).toBeTruthy();
    const access = lines.map((line) => JSON.parse(line)).find((line) => line.message === "request");
    expect(access).toMatchObject({ method: "POST", path: "/v1/things/7", status: 201, service: "test", requestId: expect.any(String) });
  });
});
