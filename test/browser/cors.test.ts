import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { api, jwtUser, stackUrl, uniqueUserId } from "../helpers.js";
import { launchChromium } from "./chromium.js";

/**
 * An app's web page on another origin, in a real browser: what it can and cannot do with
 * onair is decided by the browser applying onair's CORS answers, as it would for a user.
 */
let browser: Browser;
let pageServer: Server;
const port = () => inject("pagePort");

beforeAll(async () => {
  pageServer = createServer((_request, response) => {
    response.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    response.end("<!doctype html><title>A live app</title><h1>A live app</h1>");
  });
  await new Promise<void>((resolve) => pageServer.listen(port(), "127.0.0.1", resolve));
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => pageServer?.close(resolve));
});

async function pageAt(origin: string): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(`${origin}/`);
  return page;
}

/** fetch() from inside the page; a CORS refusal surfaces as the browser's TypeError. */
function browserFetch(page: Page, url: string, init: { method?: string; headers?: Record<string, string>; body?: unknown } = {}) {
  return page.evaluate(
    async ({ url, init }) => {
      try {
        const response = await fetch(url, { method: init.method ?? "GET", headers: init.headers, body: init.body === undefined ? undefined : JSON.stringify(init.body) });
        return { status: response.status, body: await response.json().catch(() => null), replayed: response.headers.get("idempotent-replayed"), requestId: response.headers.get("x-request-id") };
      } catch (error) {
        return { blocked: String(error) };
      }
    },
    { url, init },
  );
}

describe("a web page on an allowed origin", () => {
  it("logs in, lists rooms and sends a gift, reading the replay header on a retry", async () => {
    const host = await jwtUser("host");
    const created = await api("POST", "/v1/rooms", { token: host.token, body: { title: "Browser show" } });
    const roomId = created.body.roomId as number;
    await api("POST", `/v1/rooms/${roomId}/live`, { token: host.token });

    const page = await pageAt(`http://127.0.0.1:${port()}`);
    const userId = uniqueUserId("web");
    const json = { "content-type": "application/json" };
    expect(await browserFetch(page, `${stackUrl()}/v1/accounts`, { method: "POST", headers: json, body: { userId, password: "browser password" } })).toMatchObject({ status: 201 });
    const login = await browserFetch(page, `${stackUrl()}/v1/sessions`, { method: "POST", headers: json, body: { userId, password: "browser password" } });
    expect(login).toMatchObject({ status: 201 });
    const auth = { authorization: `Bearer ${(login as { body: { token: string } }).body.token}` };

    const rooms = await browserFetch(page, `${stackUrl()}/v1/rooms?limit=100`, { headers: auth });
    expect(rooms).toMatchObject({ status: 200 });
    expect((rooms as { body: { items: { roomId: number }[] } }).body.items.map((room) => room.roomId)).toContain(roomId);

    const credit = await api("POST", `/v1/admin/wallets/${userId}/credits`, { body: { amount: 10, reason: "browser test" }, headers: { "x-admin-key": process.env.ONAIR_ADMIN_KEY!, "idempotency-key": randomUUID() } });
    expect(credit.status).toBe(201);
    const gift = { method: "POST", headers: { ...auth, ...json, "idempotency-key": randomUUID() }, body: { roomId, giftId: "rose", count: 1 } };
    const sent = await browserFetch(page, `${stackUrl()}/v1/wallet/gifts`, gift);
    expect(sent).toMatchObject({ status: 201, body: { giftId: "rose", count: 1 }, replayed: null });
    expect((sent as { requestId: string }).requestId).toBeTruthy();
    expect(await browserFetch(page, `${stackUrl()}/v1/wallet/gifts`, gift)).toMatchObject({ status: 201, replayed: "true" });
    expect((await api("GET", "/v1/wallet", { token: (login as { body: { token: string } }).body.token })).body.balance).toBe(9);
  });
});

describe("a web page on an origin not on the list", () => {
  it("is refused by the browser: it cannot log in or read the room list", async () => {
    const page = await pageAt(`http://localhost:${port()}`);
    const userId = uniqueUserId("evil");
    const register = await browserFetch(page, `${stackUrl()}/v1/accounts`, { method: "POST", headers: { "content-type": "application/json" }, body: { userId, password: "browser password" } });
    expect(register).toEqual({ blocked: expect.stringContaining("Failed to fetch") });
    // The preflight was refused, so the account was never created.
    expect((await api("POST", "/v1/sessions", { body: { userId, password: "browser password" } })).status).toBe(401);
    const viewer = await jwtUser();
    expect(await browserFetch(page, `${stackUrl()}/v1/rooms`, { headers: { authorization: `Bearer ${viewer.token}` } })).toEqual({ blocked: expect.stringContaining("Failed to fetch") });
  });

  it("cannot reach an admin route even from the allowed origin", async () => {
    const page = await pageAt(`http://127.0.0.1:${port()}`);
    const attempt = await browserFetch(page, `${stackUrl()}/v1/admin/wallets/someone/credits`, { method: "POST", headers: { "content-type": "application/json", "x-admin-key": "guess", "idempotency-key": "k" }, body: { amount: 1, reason: "x" } });
    expect(attempt).toEqual({ blocked: expect.stringContaining("Failed to fetch") });
  });
});
