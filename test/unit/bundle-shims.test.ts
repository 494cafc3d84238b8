import { createServer } from "node:http";
import { describe, expect, it } from "vitest";
import fetchWithTimeout from "../../scripts/bundle-shims/node-fetch.js";
import { defaultProvider } from "../../scripts/bundle-shims/aws-credentials.js";
import { NODE_ENDPOINT_DISCOVERY_CONFIG_OPTIONS, resolveEndpointDiscoveryConfig } from "../../scripts/bundle-shims/aws-endpoint-discovery.js";
import { EventStreamSerde, eventStreamSerdeProvider } from "../../scripts/bundle-shims/aws-event-streams.js";
import { InvokeStore } from "../../scripts/bundle-shims/lambda-invoke-store.js";

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

describe("the AWS credential stand-in", () => {
  it("reads keys from the environment and names what is missing", async () => {
    const saved = { ...process.env };
    try {
      Object.assign(process.env, { AWS_ACCESS_KEY_ID: "AKIA-test", AWS_SECRET_ACCESS_KEY: "secret", AWS_SESSION_TOKEN: "" });
      expect(await defaultProvider()()).toEqual({ accessKeyId: "AKIA-test", secretAccessKey: "secret", sessionToken: undefined });
      delete process.env.AWS_SECRET_ACCESS_KEY;
      await expect(defaultProvider()()).rejects.toThrow(/AWS_SECRET_ACCESS_KEY/);
    } finally {
      process.env = saved;
    }
  });
});

describe("the AWS SDK stand-ins for what DynamoDB never uses", () => {
  it("fails by name if an event stream is ever asked for", () => {
    expect(() => new EventStreamSerde()).toThrow(/event streams are left out/);
    expect(() => eventStreamSerdeProvider()).toThrow(/event streams are left out/);
  });

  it("leaves endpoint discovery off, whatever the environment says", () => {
    const input = { region: "ap-southeast-1" };
    expect(resolveEndpointDiscoveryConfig(input)).toBe(input);
    expect(NODE_ENDPOINT_DISCOVERY_CONFIG_OPTIONS.environmentVariableSelector()).toBeUndefined();
  });

  it("finds no Lambda invocation store, as outside Lambda", async () => {
    expect(await InvokeStore.getInstanceAsync()).toBeUndefined();
  });
});
