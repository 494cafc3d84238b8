import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stackUrl } from "../helpers.js";
import { launchChromium } from "./chromium.js";

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

describe("the docs page at /docs", () => {
  it("renders the gift operation with its required Idempotency-Key header and its 402/409/422 answers, offline", async () => {
    const page = await browser.newPage();
    const elsewhere: string[] = [];
    // Nothing may come from anywhere but the stack: no CDN, no validator badge, no fonts.
    await page.route("**/*", (route) => {
      const url = new URL(route.request().url());
      if (url.origin === stackUrl()) return route.continue();
      elsewhere.push(url.href);
      return route.abort();
    });
    await page.goto(`${stackUrl()}/docs#/wallet/sendGift`);
    const operation = page.locator("#operations-wallet-sendGift");
    await operation.locator(".parameters").waitFor({ timeout: 20_000 });

    const header = operation.locator('tr[data-param-name="idempotency-key"]');
    await expect(header.locator(".parameter__name").textContent()).resolves.toContain("idempotency-key");
    await expect(header.locator(".parameter__name").getAttribute("class")).resolves.toContain("required");
    await expect(header.locator(".parameter__in").textContent()).resolves.toContain("header");
    for (const status of ["402", "409", "422"]) {
      await expect(operation.locator(`tr.response[data-code="${status}"]`).count(), `response ${status}`).resolves.toBe(1);
    }
    await expect(operation.locator('tr.response[data-code="402"]').textContent()).resolves.toContain("insufficient_balance");
    expect(elsewhere).toEqual([]);
  });

  it("serves the document it renders, with the stack as every function's server", async () => {
    const document = (await (await fetch(`${stackUrl()}/openapi.json`)).json()) as { servers: { url: string }[]; paths: Record<string, { servers: { variables: Record<string, { default: string }> }[] }> };
    expect(document.servers[0]!.url).toBe(stackUrl());
    expect(Object.values(document.paths["/v1/wallet/gifts"]!.servers[0]!.variables)[0]!.default).toBe(stackUrl());
  });
});
