import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { join } from "node:path";
import { PutCommand } from "../../shared/db/commands.js";
import { afterAll, describe, expect, it, vi } from "vitest";
import { createDb, setUpTable } from "../../shared/db/index.js";
import { getConfig } from "../../shared/config/index.js";

// The sweeper reads whole index partitions: the bundle gets a table and a push domain of its own
// (it reads its config from the environment at load, as on SCF), so other test files' rooms and
// streams are left alone.
const shared = { DYNAMODB_TABLE: process.env.DYNAMODB_TABLE, CSS_PUSH_DOMAIN: process.env.CSS_PUSH_DOMAIN };
process.env.DYNAMODB_TABLE = `onair_bundle_sweep_${randomBytes(4).toString("hex")}`;
process.env.CSS_PUSH_DOMAIN = "push-bundle-sweeper.onair.local";
const db = createDb(getConfig());
await setUpTable(getConfig().dynamodb, getConfig().awsCredentials);
// An account from before registration refused IM admin ids: the sweeper names it when it loads.
await db.doc.send(new PutCommand({ TableName: db.table, Item: { pk: "USER#administrator", sk: "ACCOUNT", type: "account", userId: "administrator", createdAt: new Date().toISOString() } }));
db.doc.destroy();
const written = vi.spyOn(process.stdout, "write");
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
  it("warns at load of an account that holds a reserved IM admin id", async () => {
    await vi.waitFor(() => {
      const warning = written.mock.calls.map(([line]) => String(line)).find((line) => line.includes("accounts hold reserved IM admin ids"));
      expect(JSON.parse(warning!)).toMatchObject({ level: "warn", service: "sweeper", userIds: ["administrator"] });
    });
    written.mockRestore();
  });

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
