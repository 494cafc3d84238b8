/**
 * Sweeper cost per run with 10, 1,000 and 10,000 live rooms of which 10 are stale (and 100 of
 * 10,000 for contrast): DynamoDB requests and items read (counted by the document client's observer)
 * and time per run. The goal: cost grows with what is stale, not with what is live. Then the
 * time to drain an outbox backlog after an outage, one room at a time and eight side by side,
 * with each cloud call slowed to a real region's latency.
 *
 *   npm run bench -- sweeper
 */
import { BatchWriteCommand, PutCommand } from "../../shared/db/commands.js";
import { parseConfig } from "../../shared/config/index.js";
import { createDb, setUpTable } from "../../shared/db/index.js";
import { createLogger } from "../../shared/log/index.js";
import { groupIdFor, heatOf, orderKey, roomKey, shardOf, hotShards, streamIdFor, zeroCounts } from "../../shared/rooms/index.js";
import { heartbeatIndexKeys } from "../../shared/rooms/store.js";
import { outboxPut } from "../../shared/outbox/index.js";
import { sweep } from "../../shared/sweeper/index.js";
import { createTencentDeps } from "../../shared/tencent/index.js";
import { startBenchStack } from "./support.js";

export async function benchSweeper(): Promise<void> {
  const { stack } = await startBenchStack();
  try {
    console.log("sweeper run cost (DynamoDB Local; CDN reconciliation not due)");
    console.log("live rooms   stale   requests   items read   ms (first run, closes the stale)   ms (next run, nothing due)");
    for (const [live, stale] of [[10, 10], [1_000, 10], [10_000, 10], [10_000, 100]] as const) {
      const config = parseConfig({ ...process.env, DYNAMODB_TABLE: `onair_bench_sweep_${live}_${stale}_${Date.now()}`, ORPHAN_SCAN_INTERVAL_SECONDS: "3600" });
      const db = createDb(config);
      await setUpTable(config.dynamodb, config.awsCredentials);
      let requests = 0;
      let itemsRead = 0;
      db.doc.observer = (_operation, call) =>
        call.then(
          (output: { Items?: unknown[]; Item?: unknown; Responses?: Record<string, unknown[]> }) => {
            requests++;
            itemsRead += (output.Items?.length ?? 0) + (output.Item ? 1 : 0) + Object.values(output.Responses ?? {}).reduce((n, items) => n + items.length, 0);
          },
          () => undefined,
        );
      // Live rooms written straight to the table: all heartbeating now except ten, silent for a minute.
      const now = Date.now();
      const items = Array.from({ length: live }, (_, i) => {
        const roomId = 100_001 + i;
        const lastHeartbeatAt = i < stale ? now - 60_000 : now;
        return {
          ...roomKey(roomId),
          type: "room",
          roomId,
          hostId: `h${i}`,
          title: "bench",
          status: "live",
          groupId: groupIdFor(roomId),
          streamId: streamIdFor(config.sdkAppId, roomId, `h${i}`),
          createdAt: now - 120_000,
          liveAt: now - 120_000,
          lastHeartbeatAt,
          cohosts: {},
          heat: 0,
          online: 0,
          peakViewers: 0,
          ...heartbeatIndexKeys(roomId, lastHeartbeatAt, "live"),
          gsi2pk: "LIVE",
          gsi2sk: orderKey(now - 120_000, roomId),
          gsi3pk: `HOT#${shardOf(String(roomId), hotShards)}`,
          gsi3sk: orderKey(heatOf(zeroCounts()), roomId),
        };
      });
      for (let start = 0; start < items.length; start += 25) {
        await db.doc.send(new BatchWriteCommand({ RequestItems: { [db.table]: items.slice(start, start + 25).map((Item) => ({ PutRequest: { Item } })) } }));
      }
      // The reconciliation lease is taken, as it is between scans in production.
      await db.doc.send(new PutCommand({ TableName: db.table, Item: { pk: "SWEEP#orphan-streams", sk: "LEASE", nextRunAt: now + 3_600_000 } }));
      requests = 0;
      itemsRead = 0;
      const deps = { db, config, tencent: createTencentDeps(config), log: createLogger({ service: "bench" }) };
      const t0 = performance.now();
      const first = await sweep(deps);
      const firstMs = performance.now() - t0;
      const [firstRequests, firstItems] = [requests, itemsRead];
      const t1 = performance.now();
      await sweep(deps);
      const nextMs = performance.now() - t1;
      if (first.staleClosed !== stale) throw new Error(`expected ${stale} stale rooms closed, got ${first.staleClosed}`);
      console.log(
        `${String(live).padStart(10)} ${String(stale).padStart(7)} ${String(firstRequests).padStart(10)} ${String(firstItems).padStart(12)} ${firstMs.toFixed(0).padStart(34)} ${nextMs.toFixed(0).padStart(28)}`,
      );
      db.doc.destroy();
    }
    await benchBacklog(stack.emulatorUrl);
  } finally {
    await stack.stop();
  }
}

/** Emulated round trip of one cloud API call, about a real region's from SCF. */
const cloudLatencyMs = 50;

/**
 * 100 closed rooms whose drop-stream and dismiss-room effects failed in an outage (200 entries):
 * one sweep retries them all, at concurrency 1 and 8.
 */
async function benchBacklog(emulatorUrl: string): Promise<void> {
  const faultIds: string[] = [];
  for (const action of ["DropLiveStream", "DismissRoom"]) {
    const armed = await fetch(`${emulatorUrl}/_control/faults`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ action, delayMs: cloudLatencyMs }) });
    faultIds.push(((await armed.json()) as { id: string }).id);
  }
  try {
    console.log(`\noutbox backlog: 100 rooms x 2 pending side effects, each cloud call ${cloudLatencyMs} ms; one sweep`);
    console.log("concurrency   entries done       ms");
    for (const concurrency of [1, 8]) {
      const config = parseConfig({ ...process.env, DYNAMODB_TABLE: `onair_bench_backlog_${concurrency}_${Date.now()}`, ORPHAN_SCAN_INTERVAL_SECONDS: "3600" });
      const db = createDb(config);
      await setUpTable(config.dynamodb, config.awsCredentials);
      const past = Date.now() - 3_600_000;
      const puts = Array.from({ length: 100 }, (_, i) => 200_001 + i).flatMap((roomId) => [
        outboxPut(db, { entryId: `${roomId}:close:dropStream`, roomId, command: { kind: "dropStream", streamId: streamIdFor(config.sdkAppId, roomId, "h") } }, past).Put.Item,
        outboxPut(db, { entryId: `${roomId}:close:dismissRoom`, roomId, command: { kind: "dismissRoom", roomId } }, past).Put.Item,
      ]);
      for (let start = 0; start < puts.length; start += 25) {
        await db.doc.send(new BatchWriteCommand({ RequestItems: { [db.table]: puts.slice(start, start + 25).map((Item) => ({ PutRequest: { Item } })) } }));
      }
      await db.doc.send(new PutCommand({ TableName: db.table, Item: { pk: "SWEEP#orphan-streams", sk: "LEASE", nextRunAt: Date.now() + 3_600_000 } }));
      const deps = { db, config, tencent: createTencentDeps(config), log: createLogger({ service: "bench" }) };
      const t0 = performance.now();
      const run = await sweep(deps, Date.now(), { concurrency });
      const ms = performance.now() - t0;
      if (run.outbox.done !== puts.length) throw new Error(`expected ${puts.length} entries done, got ${run.outbox.done}`);
      console.log(`${String(concurrency).padStart(11)} ${String(run.outbox.done).padStart(14)} ${ms.toFixed(0).padStart(8)}`);
      db.doc.destroy();
    }
  } finally {
    for (const id of faultIds) await fetch(`${emulatorUrl}/_control/faults/${id}`, { method: "DELETE" });
  }
}
