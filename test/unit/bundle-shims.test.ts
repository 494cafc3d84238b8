import { createServer } from "node:http";
import { v4 as smithyV4 } from "@smithy/core/serde";
import { describe, expect, it } from "vitest";
import { LightHeaders, LightResponse } from "../../scripts/bundle-shims/light-response.js";
import fetchWithTimeout from "../../scripts/bundle-shims/node-fetch.js";
import { bindV4 } from "../../scripts/bundle-shims/smithy-uuid.js";

describe("the node-fetch stand-in", () => {
  it("passes requests through and aborts one that outlives node-fetch's timeout option", async () => {
    const server = createServer((request, response) => {
      if (request.url === "/slow") return; // never answers
      response.end("ok");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      expect(await (await fetchWithTimeout(`${base}/fast`, { method: "GET", timeout: 2000, agent: {} })).text()).toBe("ok");
      const started = Date.now();
      await expect(fetchWithTimeout(`${base}/slow`, { timeout: 150 })).rejects.toThrow(/timeout after 150 ms/);
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});

/** What an operation gives, or the kind of error it throws. */
const outcome = (run: () => unknown) => {
  try {
    return { value: run() };
  } catch (error) {
    return { threw: (error as Error).constructor.name };
  }
};
const headerState = (headers: Headers | LightHeaders) => ({ entries: [...headers.entries()], cookies: headers.getSetCookie() });

describe("the @smithy/core UUID stand-in", () => {
  it("makes version 4 UUIDs of the same form as the one it replaces, a new one each call", () => {
    const format = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    const ours = bindV4(() => undefined);
    const made = Array.from({ length: 100 }, () => ours());
    expect(made.every((id) => format.test(id))).toBe(true);
    expect(format.test(smithyV4())).toBe(true);
    expect(new Set(made).size).toBe(100);
  });
});

describe("the light Response and Headers Hono gets in a bundle", () => {
  // Each case runs on undici's class and on the light one; what comes out must be the same.
  const headerCases: [string, (H: typeof Headers) => unknown][] = [
    ["a record, names in any case", (H) => headerState(new H({ "Content-Type": "application/json", "X-Request-Id": "abc" }))],
    ["pairs, a repeated name joined", (H) => headerState(new H([["vary", "Origin"], ["Vary", "Accept"], ["x-a", "1"]]))],
    ["a copy of another", (H) => headerState(new H(new H({ b: "2", a: "1" })))],
    ["set, append, delete, has, get", (H) => {
      const headers = new H();
      headers.set("Retry-After", "1");
      headers.append("vary", "Origin");
      headers.append("vary", "Accept-Encoding");
      headers.set("x-gone", "1");
      headers.delete("X-Gone");
      return { ...headerState(headers), vary: headers.get("VARY"), gone: headers.has("x-gone"), missing: headers.get("nope") };
    }],
    ["values trimmed of surrounding whitespace", (H) => new H({ a: "  spaced\t" }).get("a")],
    ["set-cookie kept as a list, joined by get", (H) => {
      const headers = new H();
      headers.append("set-cookie", "a=1");
      headers.append("Set-Cookie", "b=2");
      return { ...headerState(headers), joined: headers.get("set-cookie") };
    }],
    ["set-cookie replaced by set, cleared by delete", (H) => {
      const headers = new H([["set-cookie", "a=1"], ["set-cookie", "b=2"]]);
      headers.set("set-cookie", "c=3");
      const afterSet = headers.getSetCookie();
      headers.delete("set-cookie");
      return { afterSet, afterDelete: headers.getSetCookie(), has: headers.has("set-cookie") };
    }],
    ["forEach in name order", (H) => {
      const seen: string[] = [];
      new H({ z: "1", a: "2", m: "3" }).forEach((value, name) => seen.push(`${name}=${value}`));
      return seen;
    }],
  ];
  it.each(headerCases)("Headers from %s read as undici's", (_case, run) => {
    expect(run(LightHeaders as unknown as typeof Headers)).toEqual(run(Headers));
  });

  it.each([
    ["a header name that is not a token", (H: typeof Headers) => outcome(() => new H({ "bad name": "1" }))],
    ["a value with a line break", (H: typeof Headers) => outcome(() => new H().set("x", "a\r\nInjected: 1"))],
    ["a value with NUL", (H: typeof Headers) => outcome(() => new H().append("x", "a\0b"))],
  ])("refuses %s as undici does", (_case, run) => {
    expect(run(LightHeaders as unknown as typeof Headers)).toEqual({ threw: "TypeError" });
    expect(run(Headers)).toEqual({ threw: "TypeError" });
  });

  const responseState = async (response: Response | LightResponse) => ({
    status: response.status,
    ok: response.ok,
    statusText: response.statusText,
    headers: [...response.headers.entries()],
    text: await response.text(),
    used: response.bodyUsed,
    again: await response.text().then(() => "read", (error: Error) => error.constructor.name),
  });
  const responseCases: [string, (R: typeof Response) => Response][] = [
    ["JSON with its type", (R) => new R(JSON.stringify({ a: 1 }), { status: 201, headers: { "content-type": "application/json" } })],
    ["text without a type", (R) => new R("plain")],
    ["bytes without a type", (R) => new R(new TextEncoder().encode("bytes"), { status: 200 })],
    ["an ArrayBuffer", (R) => new R(new TextEncoder().encode("buffer").buffer as ArrayBuffer)],
    ["no body, 204", (R) => new R(null, { status: 204, headers: new Headers({ "x-request-id": "r" }) })],
    ["a copy made from another's body and init, as Hono copies one", (R) => {
      const first = new R("{}", { status: 409, statusText: "Conflict", headers: { "content-type": "application/json", "retry-after": "1" } });
      return new R(first.body, first);
    }],
    ["a clone", (R) => new R("cloned", { status: 418 }).clone()],
  ];
  it.each(responseCases)("Response of %s reads as undici's", async (_case, build) => {
    expect(await responseState(build(LightResponse as unknown as typeof Response))).toEqual(await responseState(build(Response)));
  });

  it("reads JSON and bytes as undici does", async () => {
    const make = (R: typeof Response) => new R('{"b":[1,2]}', { headers: { "content-type": "application/json" } });
    expect(await make(LightResponse as unknown as typeof Response).json()).toEqual(await make(Response).json());
    const bytes = async (R: typeof Response) => [...new Uint8Array(await new R("héllo").arrayBuffer())];
    expect(await bytes(LightResponse as unknown as typeof Response)).toEqual(await bytes(Response));
  });

  it.each([
    ["a status below 200", (R: typeof Response) => outcome(() => new R("x", { status: 199 }))],
    ["a status above 599", (R: typeof Response) => outcome(() => new R("x", { status: 600 }))],
    ["a body on 204", (R: typeof Response) => outcome(() => new R("x", { status: 204 }))],
    ["a body on 304", (R: typeof Response) => outcome(() => new R("x", { status: 304 }))],
  ])("refuses %s as undici does", (_case, run) => {
    const light = run(LightResponse as unknown as typeof Response);
    expect(light).toEqual(run(Response));
    expect(light).toHaveProperty("threw");
  });

  it("refuses a body it cannot hold whole (a stream) instead of answering it empty", () => {
    expect(outcome(() => new LightResponse(new ReadableStream() as unknown as string))).toEqual({ threw: "TypeError" });
  });
});
