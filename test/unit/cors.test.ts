import { describe, expect, it } from "vitest";
import { createApp } from "../../shared/http/index.js";

const app = (corsOrigins?: string[]) => {
  const created = createApp({ service: "test", corsOrigins });
  created.get("/v1/things", (c) => c.json({ ok: true }, 200, { "retry-after": "3" }));
  created.post("/v1/things", (c) => c.json({ ok: true }, 201));
  created.post("/v1/admin/things", (c) => c.json({ ok: true }));
  created.post("/v1/callbacks/im", (c) => c.json({ ok: true }));
  return created;
};
const preflight = (origin: string, method = "POST") =>
  ({ method: "OPTIONS", headers: { origin, "access-control-request-method": method, "access-control-request-headers": "authorization, content-type, idempotency-key" } }) as const;
const allowed = "https://app.example.com";

describe("CORS policy", () => {
  it("answers a preflight from a listed origin with the route's methods and the headers apps send", async () => {
    const response = await app([allowed]).request("/v1/things", preflight(allowed));
    expect(response.status).toBe(204);
    expect(response.headers.get("access-control-allow-origin")).toBe(allowed);
    expect(response.headers.get("access-control-allow-methods")?.split(", ").sort()).toEqual(["GET", "POST"]);
    expect(response.headers.get("access-control-allow-headers")).toContain("idempotency-key");
    expect(response.headers.get("vary")).toContain("Origin");
  });

  it("lets the page read the retry, replay and request-id headers", async () => {
    const response = await app([allowed]).request("/v1/things", { headers: { origin: allowed } });
    expect(response.headers.get("access-control-allow-origin")).toBe(allowed);
    expect(response.headers.get("access-control-expose-headers")).toBe("retry-after, idempotent-replayed, x-request-id");
  });

  it.each([
    ["an unlisted origin", [allowed], "https://evil.example.com"],
    ["any origin when none is configured", undefined, allowed],
    ["a look-alike origin", [allowed], "https://app.example.com.evil.com"],
  ])("refuses a preflight from %s with 403 and no CORS headers", async (_case, origins, origin) => {
    const response = await app(origins).request("/v1/things", preflight(origin));
    expect(response.status).toBe(403);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("origin_not_allowed");
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
    const simple = await app(origins).request("/v1/things", { headers: { origin } });
    expect(simple.headers.get("access-control-allow-origin")).toBeNull();
  });

  it.each(["/v1/admin/things", "/v1/callbacks/im"])("never answers cross-origin on %s, even with *", async (path) => {
    const response = await app(["*"]).request(path, preflight(allowed));
    expect(response.status).toBe(403);
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
    const post = await app(["*"]).request(path, { method: "POST", headers: { origin: allowed } });
    expect(post.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("allows every origin only when * is configured", async () => {
    const response = await app(["*"]).request("/v1/things", preflight("https://anyone.example.org"));
    expect([response.status, response.headers.get("access-control-allow-origin")]).toEqual([204, "*"]);
  });

  it("leaves a preflight for an unknown path to the 404", async () => {
    expect((await app([allowed]).request("/v1/nowhere", preflight(allowed))).status).toBe(404);
  });
});
