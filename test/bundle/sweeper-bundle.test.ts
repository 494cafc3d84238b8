import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createDb, ensureTable } from "../../shared/db/index.js";
import { getConfig } from "../../shared/config/index.js";

// The sweeper reads whole index partitions: the bundle gets a table and a push domain of its own
// (it reads its config from the environment at load, as on SCF), so other test files' rooms and
// streams are left alone.
const shared = { DYNAMODB_TABLE: process.env.DYNAMODB_TABLE, CSS_PUSH_DOMAIN: process.env.CSS_PUSH_DOMAIN };
process.env.DYNAMODB_TABLE = `onair_bundle_sweep_${randomBytes(4).toString("hex")}`;
process.env.CSS_PUSH_DOMAIN = "push-bundle-sweeper.onair.local";
await ensureTable(createDb(getConfig()).raw, process.env.DYNAMODB_TABLE);
const require = createRequire(import.meta.url);
const { main_handler } = require(join(import.meta.dirname, "../../dist/sweeper/index.js")) as {
  main_handler: (event: { Type: string; TriggerName: string; Time: string }, context: { request_id: string; time_limit_in_ms: number }) => Promise<Record<string, unknown>>;
};

// The bundle has read its config; a worker reused by another file gets the shared values back.
afterAll(() => {
  for (const [name, value] of Object.entries(shared)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

describe("dist/sweeper/index.js", () => {
  it("runs a sweep from a timer event: indexes queried, the CDN listed, the outbox read", async () => {
    const summary = await main_handler({ Type: "Timer", TriggerName: "sweeper", Time: new Date().toISOString() }, { request_id: "bundle-sweep", time_limit_in_ms: 60_000 });
    expect(summary).toMatchObject({
      staleClosed: 0,
      dueRead: 0,
      deferredCloses: 0,
      orphanScan: "ran",
      onlineStreams: 0,
      outbox: { due: 0, done: 0, failed: 0, skipped: 0, deferred: 0 },
    });
  });
});
