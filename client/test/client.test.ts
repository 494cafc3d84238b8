import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { contractProblem } from "../../test/contract.js";
import { jwtUser, stackUrl } from "../../test/helpers.js";
import { createOnairClient, OnairError, OnairTimeoutError, unwrap, type OnairClientOptions } from "../src/index.js";

/** The real fetch, with every answer held to the OpenAPI document (as the test helpers do). */
const checkedFetch: typeof fetch = async (input, init) => {
  const response = await fetch(input, init);
  const text = await response.clone().text();
  const problem = contractProblem(init?.method ?? "GET", new URL(String(input)).pathname, response.status, text ? JSON.parse(text) : undefined);
  if (problem) throw new Error(`contract drift: ${problem}`);
  return response;
};

const client = (options: Partial<OnairClientOptions> = {}) => createOnairClient({ baseUrl: stackUrl(), fetch: checkedFetch, retry: { baseDelayMs: 10 }, ...options });

const admin = () => client({ adminKey: process.env.ONAIR_ADMIN_KEY! });

async function liveRoom() {
  const host = await jwtUser("host");
  const onair = client({ token: host.token });
  const room = await unwrap(onair.api.POST("/v1/rooms", { body: { title: "client show" } }));
  await unwrap(onair.api.POST("/v1/rooms/{roomId}/live", { params: { path: { roomId: room.roomId } } }));
  return { host, roomId: room.roomId };
}

/** A fetch that answers `status` (with its headers) `times` times before letting calls through, counting calls. */
function failing(times: number, status: number, headers: Record<string, string> = {}) {
  const calls: { url: string; key: string | null }[] = [];
  const fetchOf: typeof fetch = async (input, init) => {
    calls.push({ url: String(input), key: new Headers(init?.headers).get("idempotency-key") });
    if (calls.length <= times) return new Response(JSON.stringify({ error: { code: "store_unavailable", message: "synthetic" } }), { status, headers: { "content-type": "application/json", ...headers } });
    return checkedFetch(input, init);
  };
  return { calls, fetch: fetchOf };
}

describe("the typed client against the local stack", () => {
  it("registers, logs in with the bearer token it was given, and reads a room", async () => {
    const onair = client();
    const userId = `c_${randomUUID().slice(0, 8)}`;
    await unwrap(onair.api.POST("/v1/accounts", { body: { userId, password: "client password" } }));
    const session = await unwrap(onair.api.POST("/v1/sessions", { body: { userId, password: "client password" } }));
    onair.setToken(session.token);
    const room = await unwrap(onair.api.POST("/v1/rooms", { body: { title: "typed" } }));
    const view = await unwrap(onair.api.GET("/v1/rooms/{roomId}", { params: { path: { roomId: room.roomId } } }));
    expect(view).toMatchObject({ roomId: room.roomId, hostId: userId, status: "created" });
  });

  it("sends each path to its function's own URL when given per-function URLs", async () => {
    const { host, roomId } = await liveRoom();
    const seen: string[] = [];
    const onair = createOnairClient({
      functionUrls: { rooms: "http://rooms.example", wallet: "http://wallet.example" },
      token: host.token,
      fetch: (input, init) => {
        const url = new URL(String(input));
        seen.push(url.origin + url.pathname);
        return checkedFetch(stackUrl() + url.pathname + url.search, init);
      },
    });
    await unwrap(onair.api.GET("/v1/rooms/{roomId}", { params: { path: { roomId } } }));
    await unwrap(onair.api.GET("/v1/rooms/{roomId}/leaderboard", { params: { path: { roomId }, query: { limit: 5 } } }));
    expect(seen).toEqual([`http://rooms.example/v1/rooms/${roomId}`, `http://wallet.example/v1/rooms/${roomId}/leaderboard`]);
    // A function with no URL and no gateway is a mistake in the options, named before any request.
    await expect(onair.api.POST("/v1/usersig")).rejects.toThrow(/functionUrls\.usersig/);
  });

  it("throws an OnairError carrying the error envelope's code", async () => {
    const viewer = await jwtUser();
    const error = await unwrap(client({ token: viewer.token }).api.POST("/v1/rooms/{roomId}/members", { params: { path: { roomId: 999_999 } } })).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OnairError);
    expect(error).toMatchObject({ name: "OnairError", status: 404, code: "room_not_found" });
    expect((error as OnairError).requestId).toBeTruthy();
  });

  it("bills a gift once when its answer is lost and the client retries it with the same Idempotency-Key", async () => {
    const { roomId } = await liveRoom();
    const fan = await jwtUser("fan");
    await admin().creditWallet(fan.userId, { amount: 10, reason: "client test" });
    const keys: (string | null)[] = [];
    let cut = false;
    const onair = client({
      token: fan.token,
      // The first gift reaches onair and is billed; its answer is then lost, as on a dropped connection.
      fetch: async (input, init) => {
        const response = await checkedFetch(input, init);
        if (new URL(String(input)).pathname !== "/v1/wallet/gifts") return response;
        keys.push(new Headers(init?.headers).get("idempotency-key"));
        if (!cut) {
          cut = true;
          throw new TypeError("fetch failed");
        }
        return response;
      },
    });
    const sent = await onair.sendGift({ roomId, giftId: "heart", count: 1 });
    expect(sent).toMatchObject({ gift: { amount: 5 }, replayed: true });
    expect(keys).toEqual([sent.idempotencyKey, sent.idempotencyKey]);
    expect(await unwrap(onair.api.GET("/v1/wallet"))).toMatchObject({ balance: 5 });
    // Another logical gift is another key, and is billed.
    const second = await onair.sendGift({ roomId, giftId: "heart", count: 1 });
    expect(second.idempotencyKey).not.toBe(sent.idempotencyKey);
    expect(await unwrap(onair.api.GET("/v1/wallet"))).toMatchObject({ balance: 0 });
  });

  it("refuses a gift the wallet cannot pay with insufficient_balance, and does not retry it", async () => {
    const { roomId } = await liveRoom();
    const fan = await jwtUser("fan");
    const error = await client({ token: fan.token }).sendGift({ roomId, giftId: "rocket", count: 1 }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ status: 402, code: "insufficient_balance" });
  });
});

describe("the client's retries", () => {
  it("repeats a 503 after its Retry-After and a 429, then returns the real answer", async () => {
    for (const [status, headers] of [[503, { "retry-after": "1" }], [429, {}]] as const) {
      const { calls, fetch } = failing(2, status, headers);
      const started = Date.now();
      expect(await unwrap(client({ fetch, retry: { baseDelayMs: 10, maxDelayMs: 50 } }).api.GET("/v1/gifts"))).toMatchObject({ items: expect.any(Array) });
      expect(calls).toHaveLength(3);
      // Retry-After is honoured up to maxDelayMs.
      expect(Date.now() - started).toBeLessThan(1_000);
    }
  });

  it("retries a 409 only when it carries Retry-After", async () => {
    const busy = failing(1, 409, { "retry-after": "1" });
    await unwrap(client({ fetch: busy.fetch, retry: { maxDelayMs: 10 } }).api.GET("/v1/gifts"));
    expect(busy.calls).toHaveLength(2);
    const conflict = failing(1, 409);
    await expect(unwrap(client({ fetch: conflict.fetch }).api.GET("/v1/gifts"))).rejects.toMatchObject({ status: 409 });
    expect(conflict.calls).toHaveLength(1);
  });

  it("gives up after its retries, with the last answer's error", async () => {
    const { calls, fetch } = failing(10, 503, { "retry-after": "1" });
    await expect(unwrap(client({ fetch, retry: { retries: 2, maxDelayMs: 10 } }).api.GET("/v1/gifts"))).rejects.toMatchObject({ status: 503, code: "store_unavailable", retryAfterSeconds: 1 });
    expect(calls).toHaveLength(3);
  });

  it("does not repeat a POST without an Idempotency-Key after a 502, but does a gift, with the same key", async () => {
    const room = failing(1, 502);
    const host = await jwtUser("host");
    await expect(unwrap(client({ fetch: room.fetch, token: host.token }).api.POST("/v1/rooms", { body: { title: "once" } }))).rejects.toMatchObject({ status: 502 });
    expect(room.calls).toHaveLength(1);
    const { roomId } = await liveRoom();
    const fan = await jwtUser("fan");
    await admin().creditWallet(fan.userId, { amount: 1, reason: "client test" });
    const gift = failing(1, 502);
    const sent = await client({ fetch: gift.fetch, token: fan.token }).sendGift({ roomId, giftId: "rose", count: 1 });
    expect(gift.calls.map((call) => call.key)).toEqual([sent.idempotencyKey, sent.idempotencyKey]);
    expect(sent.replayed).toBe(false);
  });

  it("stops at its timeout, waits included, with OnairTimeoutError", async () => {
    const { fetch } = failing(1_000, 503);
    const started = Date.now();
    const error = await unwrap(client({ fetch, timeoutMs: 300, retry: { retries: 1_000, baseDelayMs: 50, maxDelayMs: 100 } }).api.GET("/v1/gifts")).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OnairTimeoutError);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("stops at its timeout while an answer's body is still arriving", async () => {
    // Headers at once, then a body that never ends.
    const stalled: typeof fetch = async () => new Response(new ReadableStream({ start: (controller) => controller.enqueue(new TextEncoder().encode('{"items":')) }), { status: 200, headers: { "content-type": "application/json" } });
    const started = Date.now();
    const error = await unwrap(client({ fetch: stalled, timeoutMs: 300 }).api.GET("/v1/gifts")).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OnairTimeoutError);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("answers at once with the code and Retry-After when the server asks for a longer wait than the call may spend", async () => {
    const { fetch, calls } = failing(100, 429, { "retry-after": "900" });
    const started = Date.now();
    const error = await unwrap(client({ fetch }).api.GET("/v1/gifts")).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OnairError);
    expect(error).toMatchObject({ status: 429, retryAfterSeconds: 900 });
    expect(calls).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it("hands a timed-out gift's Idempotency-Key to the caller, and repeating with it bills once", async () => {
    const { roomId } = await liveRoom();
    const fan = await jwtUser("fan");
    await admin().creditWallet(fan.userId, { amount: 10, reason: "client test" });
    // The gift reaches onair and is billed; its answer never comes back within the call's time.
    const slow: typeof fetch = async (input, init) => {
      await checkedFetch(input, init);
      return new Promise<Response>((_, reject) => init?.signal?.addEventListener("abort", () => reject(init.signal!.reason), { once: true }));
    };
    const error = (await client({ token: fan.token, fetch: slow, timeoutMs: 1_500 }).sendGift({ roomId, giftId: "heart", count: 1 }).catch((caught: unknown) => caught)) as OnairTimeoutError;
    expect(error).toBeInstanceOf(OnairTimeoutError);
    expect(error.idempotencyKey).toEqual(expect.any(String));
    const onair = client({ token: fan.token });
    const repeated = await onair.sendGift({ roomId, giftId: "heart", count: 1 }, { idempotencyKey: error.idempotencyKey });
    expect(repeated).toMatchObject({ idempotencyKey: error.idempotencyKey, replayed: true });
    expect(await unwrap(onair.api.GET("/v1/wallet"))).toMatchObject({ balance: 5 });
  });

  it("stops when the caller aborts, with the caller's reason", async () => {
    const { fetch } = failing(100, 503, { "retry-after": "5" });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("user left the page")), 100);
    await expect(unwrap(client({ fetch, retry: { retries: 10, maxDelayMs: 5_000 } }).api.GET("/v1/gifts", { signal: controller.signal }))).rejects.toThrow("user left the page");
  });
});
