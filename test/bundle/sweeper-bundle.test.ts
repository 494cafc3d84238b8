import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { join } from "node:path";
import { PutCommand } from "../../shared/db/commands.js";
import { afterAll, describe, expect, it, vi } from "vitest";
import { createDb, setUpTable } from "../../shared/db/index.js";
import { getConfig } from "../../shared/config/index.js";
import { setDynamoDbFaults } from "../helpers.js";

// The sweeper reads whole index partitions: the bundle gets a table and a push domain of its own
// (it reads its config from the environment at load, as on SCF), so other test files' rooms and
// streams are left alone.
const shared = { DYNAMODB_TABLE: process.env.DYNAMODB_TABLE, CSS_PUSH_DOMAIN: process.env.CSS_PUSH_DOMAIN };
process.env.DYNAMODB_TABLE = `onair_bundle_sweep_${randomBytes(4).toString("hex")}`;
process.env.CSS_PUSH_DOMAIN = "push-bundle-sweeper.onair.local";
const db = createDb(getConfig());
await setUpTable(getConfig().dynamodb, getConfig().awsCredentials);
// An account from before registration refused IM admin ids: the sweeper names it on its first run.
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
  it("runs a sweep from a timer event: indexes queried, the CDN listed, the outbox read", async () => {
    // Loading asks nothing: a check started at load kept the process alive and SCF may freeze it unanswered.
    expect(written.mock.calls.filter(([line]) => String(line).includes("reserved IM admin ids"))).toEqual([]);
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

  it("warns of an account that holds a reserved IM admin id on its first run, once per container, and not at load", async () => {
    const warnings = () => written.mock.calls.map(([line]) => String(line)).filter((line) => line.includes("accounts hold reserved IM admin ids"));
    // The first run was the sweep above; loading asked nothing (checked before it).
    expect(warnings().map((line) => JSON.parse(line))).toEqual([expect.objectContaining({ level: "warn", service: "sweeper", requestId: "bundle-sweep", userIds: ["administrator"] })]);
    await main_handler({ Type: "Timer", TriggerName: "sweeper", Time: new Date().toISOString() }, { request_id: "bundle-sweep-2", time_limit_in_ms: 60_000 });
    expect(warnings()).toHaveLength(1);
    written.mockRestore();
  });

  it("asks again on the next run when DynamoDB throttled the check, and the sweep itself goes on", async () => {
    // A fresh container: the bundle loaded anew.
    const path = join(import.meta.dirname, "../../dist/sweeper/index.js");
    delete require.cache[require.resolve(path)];
    const fresh = (require(path) as { main_handler: typeof main_handler }).main_handler;
    const lines = vi.spyOn(process.stdout, "write");
    const logged = (text: string) => lines.mock.calls.map(([line]) => String(line)).filter((line) => line.includes(text));
    const run = (id: string) => fresh({ Type: "Timer", TriggerName: "sweeper", Time: new Date().toISOString() }, { request_id: id, time_limit_in_ms: 60_000 });
    try {
      // Every attempt of the check's BatchGetItem (this table's reserved account) is throttled; nothing else is.
      await setDynamoDbFaults({ operations: ["BatchGetItem"], match: [process.env.DYNAMODB_TABLE!], sequence: Array(3).fill("throttle") });
      expect(await run("throttled")).toMatchObject({ staleClosed: 0, outbox: { failed: 0 } });
      expect(logged("could not check for accounts under reserved ids")).toHaveLength(1);
      expect(logged("accounts hold reserved IM admin ids")).toEqual([]);
      await setDynamoDbFaults({});
      await run("asked-again");
      expect(logged("accounts hold reserved IM admin ids").map((line) => JSON.parse(line))).toEqual([expect.objectContaining({ requestId: "asked-again", userIds: ["administrator"] })]);
      await run("quiet");
      expect(logged("accounts hold reserved IM admin ids")).toHaveLength(1);
    } finally {
      await setDynamoDbFaults({});
      lines.mockRestore();
    }
  });
});
