import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { api, jwtUser } from "../helpers.js";

describe("app API fuzzing", () => {
  it("never answers 500 to a logged-in caller, whatever the room id, query, body or idempotency key", async () => {
    const host = await jwtUser("fuzz_api");
    const created = await api("POST", "/v1/rooms", { token: host.token, body: { title: "fuzz" } });
    const roomId = created.body.roomId as number;
    const segment = fc.oneof(fc.constant(String(roomId)), fc.string(), fc.integer().map(String), fc.constantFrom("0", "-1", "1e3", "4294967295", "99999999999999999999", "%E0%A4%A", "..", "100001.5"));
    const route = fc.constantFrom(
      ["POST", "/v1/rooms/:id/live"], ["POST", "/v1/rooms/:id/heartbeat"], ["GET", "/v1/rooms/:id"], ["POST", "/v1/rooms/:id/members"],
      ["DELETE", "/v1/rooms/:id/members/me"], ["GET", "/v1/rooms/:id/members"], ["POST", "/v1/rooms/:id/likes"], ["POST", "/v1/rooms/:id/cohosts/invitations"],
      ["POST", "/v1/rooms/:id/cohosts"], ["DELETE", "/v1/rooms/:id/cohosts/:id"], ["GET", "/v1/rooms/:id/summary"], ["GET", "/v1/rooms/:id/recordings"],
      ["GET", "/v1/replays"], ["GET", "/v1/rooms"], ["POST", "/v1/rooms"],
      ["GET", "/v1/gifts"], ["GET", "/v1/wallet"], ["GET", "/v1/wallet/ledger"], ["POST", "/v1/wallet/gifts"], ["GET", "/v1/rooms/:id/leaderboard"],
    );
    const query = fc.dictionary(fc.constantFrom("limit", "cursor", "sort", "x"), fc.oneof(fc.string(), fc.integer().map(String), fc.constant("eyJhZnRlciI6MX0")), { maxKeys: 3 });
    const body = fc.oneof(
      fc.constant(undefined),
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc.record({ title: fc.jsonValue(), count: fc.jsonValue(), userId: fc.jsonValue(), roomId: fc.oneof(fc.constant(roomId), fc.jsonValue()), giftId: fc.jsonValue() }, { requiredKeys: [] }).map((v) => JSON.stringify(v)),
      fc.string(),
    );
    await fc.assert(
      fc.asyncProperty(route, segment, query, body, fc.string({ maxLength: 80 }), async ([method, path], id, q, raw, idempotencyKey) => {
        const url = `${path.replaceAll(":id", encodeURIComponent(id))}?${new URLSearchParams(q)}`;
        const sent = method === "GET" ? undefined : raw;
        const headers: Record<string, string> = sent === undefined ? {} : { "content-type": "application/json" };
        if (/^[\x21-\x7e]*$/.test(idempotencyKey)) headers["idempotency-key"] = idempotencyKey;
        const response = await api(method, url, { token: host.token, rawBody: sent, headers });
        // The request in the assertion, so a failure names it.
        expect({ method, url, body: sent, status: response.status, error: response.body?.error }).toEqual({ method, url, body: sent, status: expect.toSatisfy((status: number) => status < 500), error: response.body?.error });
      }),
      { numRuns: 300 },
    );
  }, 120_000);
});
