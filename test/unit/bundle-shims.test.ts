import { createServer } from "node:http";
import { describe, expect, it } from "vitest";
import fetchWithTimeout from "../../scripts/bundle-shims/node-fetch.js";

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
