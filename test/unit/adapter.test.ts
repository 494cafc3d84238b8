import { describe, expect, it } from "vitest";
import { Hono } from "hono";
import { createApp, createScfHandler, eventToRequest, maxBodyBytes, type ScfHttpEvent } from "../../shared/http/index.js";

describe("SCF event → Request", () => {
  it("converts a Function URL event", async () => {
    const event: ScfHttpEvent = {
      httpMethod: "POST",
      path: "/v1/rooms/1001",
      headers: { "content-type": "application/json", host: "1250000000-abc.ap-guangzhou.tencentscf.com", "x-scf-remote-addr": "1.2.3.4" },
      queryString: { a: "1", tag: ["x", "y"] },
      body: '{"title":"hi"}',
    };
    const request = eventToRequest(event);
    expect(request.method).toBe("POST");
    const url = new URL(request.url);
    expect(url.pathname).toBe("/v1/rooms/1001");
    expect(url.host).toBe("1250000000-abc.ap-guangzhou.tencentscf.com");
    expect(url.searchParams.get("a")).toBe("1");
    expect(url.searchParams.getAll("tag")).toEqual(["x", "y"]);
    expect(request.headers.get("content-type")).toBe("application/json");
    expect(await request.text()).toBe('{"title":"hi"}');
  });

  it("decodes base64 bodies", async () => {
    const request = eventToRequest({ httpMethod: "POST", path: "/", body: Buffer.from('{"a":1}').toString("base64"), isBase64Encoded: true });
    expect(await request.json()).toEqual({ a: 1 });
  });

  it("tolerates the legacy API Gateway event", () => {
    const request = eventToRequest({
      httpMethod: "",
      path: "",
      requestContext: { httpMethod: "DELETE", path: "/v1/sessions/current", sourceIp: "5.6.7.8" },
      queryStringParameters: { x: "1" },
      headers: { host: "service-x.gz.apigw.tencentcs.com" },
      body: null,
    } as ScfHttpEvent);
    expect(request.method).toBe("DELETE");
    expect(new URL(request.url).pathname).toBe("/v1/sessions/current");
    expect(new URL(request.url).searchParams.get("x")).toBe("1");
  });

  it("drops a body on GET instead of failing", () => {
    expect(() => eventToRequest({ httpMethod: "GET", path: "/", body: "ignored" })).not.toThrow();
  });
});

describe("main_handler", () => {
  it("returns the integrated response with the request id and client ip", async () => {
    const app = new Hono<{ Bindings: { requestId: string; clientIp?: string } }>();
    app.get("/who", (c) => c.json({ requestId: c.env.requestId, ip: c.env.clientIp }, 201, { "x-extra": "1" }));
    const handler = createScfHandler(app);
    const result = await handler({ httpMethod: "GET", path: "/who", headers: { "x-scf-remote-addr": "9.9.9.9" } }, { request_id: "req-1" });
    expect(result.statusCode).toBe(201);
    expect(result.isBase64Encoded).toBe(false);
    expect(result.headers["x-extra"]).toBe("1");
    expect(JSON.parse(result.body)).toEqual({ requestId: "req-1", ip: "9.9.9.9" });
  });

  it("takes the client ip the platform added, not one the client sent in front of it", async () => {
    const app = new Hono<{ Bindings: { requestId: string; clientIp?: string } }>();
    app.get("/who", (c) => c.json({ ip: c.env.clientIp }));
    const handler = createScfHandler(app);
    const ipOf = async (headers: Record<string, string | string[]>, requestContext?: { sourceIp: string }) =>
      JSON.parse((await handler({ httpMethod: "GET", path: "/who", headers, ...(requestContext ? { requestContext } : {}) }, { request_id: "r" })).body).ip;
    expect(await ipOf({ "x-scf-remote-addr": "6.6.6.6, 9.9.9.9" })).toBe("9.9.9.9");
    expect(await ipOf({ "x-scf-remote-addr": ["6.6.6.6", "9.9.9.9"] })).toBe("9.9.9.9");
    expect(await ipOf({ "x-scf-remote-addr": "6.6.6.6" }, { sourceIp: "9.9.9.9" })).toBe("9.9.9.9");
  });
});

describe("SCF event bodies", () => {
  it("states a whole body's own length, whatever the client's framing headers said", () => {
    const body = '{"title":"héllo"}';
    const length = String(Buffer.byteLength(body));
    expect(eventToRequest({ httpMethod: "POST", path: "/", body }).headers.get("content-length")).toBe(length);
    expect(eventToRequest({ httpMethod: "POST", path: "/", body: Buffer.from(body).toString("base64"), isBase64Encoded: true }).headers.get("content-length")).toBe(length);
    expect(eventToRequest({ httpMethod: "POST", path: "/", headers: { "content-length": "10" }, body }).headers.get("content-length")).toBe(length);
    const chunked = eventToRequest({ httpMethod: "POST", path: "/", headers: { "transfer-encoding": "chunked" }, body }).headers;
    expect([chunked.get("content-length"), chunked.get("transfer-encoding")]).toEqual([length, null]);
  });

  it("refuses a body over the limit that claims to be small (413)", async () => {
    const app = createApp({ service: "test" });
    app.post("/echo", (c) => c.json({ ok: true }));
    const handler = createScfHandler(app);
    const body = JSON.stringify({ text: "x".repeat(maxBodyBytes) });
    const result = await handler({ httpMethod: "POST", path: "/echo", headers: { "content-type": "application/json", "content-length": "10" }, body }, { request_id: "r" });
    expect([result.statusCode, JSON.parse(result.body).error.code]).toEqual([413, "payload_too_large"]);
  });

  it("gives an empty body as none", () => {
    expect(eventToRequest({ httpMethod: "POST", path: "/", body: "" }).body).toBeNull();
  });
});

describe("the request an SCF event becomes", () => {
  it("reads as a standard Request reads the same event: trimmed and joined headers, the URL, a byte-order mark dropped", async () => {
    const event: ScfHttpEvent = {
      httpMethod: "post",
      path: "/v1/wallet/gifts",
      headers: { Host: "x.example", "X-Tag": ["a ", " b"], "content-type": " application/json\t" },
      queryString: { q: "ä b" },
      body: "\ufeff" + JSON.stringify({ giftId: "rose" }),
    };
    const ours = eventToRequest(event);
    const standard = new Request(ours.url, { method: "POST", headers: [["host", "x.example"], ["x-tag", "a "], ["x-tag", " b"], ["content-type", " application/json\t"], ["content-length", ours.headers.get("content-length")!]], body: event.body! });
    expect([ours.method, ours.url]).toEqual([standard.method, standard.url]);
    expect([...ours.headers]).toEqual([...standard.headers]);
    expect(await ours.json()).toEqual(await standard.json());
    await expect(ours.text()).rejects.toThrow(/already been read/);
  });

  it("answers a method fetch refuses (TRACE) with a 405 in the envelope, not a failed invocation", async () => {
    const app = createApp({ service: "test" });
    app.get("/v1/rooms", (c) => c.json({ rooms: [] }));
    const result = await createScfHandler(app)({ httpMethod: "TRACE", path: "/v1/rooms", headers: {} }, { request_id: "r" });
    expect([result.statusCode, JSON.parse(result.body).error.code, result.headers.allow]).toEqual([405, "method_not_allowed", "GET"]);
  });
});

describe("events a standard Request would refuse", () => {
  const app = createApp({ service: "test" });
  app.post("/echo", async (c) => c.json({ body: await c.req.json(), key: c.req.header("x-admin-key") ?? null, cookie: c.req.header("cookie") ?? null }));
  const handler = createScfHandler(app);
  const send = (event: Partial<ScfHttpEvent>) => handler({ httpMethod: "POST", path: "/echo", headers: { "content-type": "application/json" }, body: "{}", ...event } as ScfHttpEvent, { request_id: "r" });

  it("answers 400 invalid_header to a header name that lower-cases into another (\\u212A into k), not the header it imitates", async () => {
    const result = await send({ headers: { "content-type": "application/json", "x-admin-\u212Aey": "secret" } });
    expect([result.statusCode, JSON.parse(result.body).error.code, result.headers["x-request-id"]]).toEqual([400, "invalid_header", "r"]);
  });

  it("answers 400 to a header value with a line break or NUL, a method that is no token, a host with credentials", async () => {
    for (const event of [
      { headers: { "content-type": "application/json", "x-note": "a\r\nx-injected: 1" } },
      { headers: { "content-type": "application/json", "x-note": "a\u0000b" } },
      { httpMethod: "G T" },
      { headers: { "content-type": "application/json", host: "user:pw@api.example" } },
    ]) {
      const result = await send(event);
      expect(result.statusCode, JSON.stringify(event)).toBe(400);
      expect(["invalid_header", "bad_request"]).toContain(JSON.parse(result.body).error.code);
    }
  });

  it("answers 400 bad_request to an event whose body is no string (a failed invocation before)", async () => {
    for (const body of [42, { ok: true }, ["{}"]]) {
      const result = await send({ body: body as unknown as string });
      expect([result.statusCode, JSON.parse(result.body).error]).toEqual([400, { code: "bad_request", message: "the event body is not a string" }]);
    }
  });

  it("reads a body behind two byte-order marks and joins repeated cookies, as Node 20's Request did", async () => {
    const result = await send({ headers: { "content-type": "application/json", cookie: ["a=1", "b=2"] }, body: '\ufeff\ufeff{"ok":true}' });
    expect([result.statusCode, JSON.parse(result.body)]).toEqual([200, { body: { ok: true }, key: null, cookie: "a=1; b=2" }]);
  });
});
