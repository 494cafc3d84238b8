/**
 * Rooms: DynamoDB requests per operation, counted by a middleware on the client (not
 * estimated), and the latency of the live list with 1,000 live rooms.
 *
 *   npm run bench -- rooms
 *
 * Callers authenticate with app JWTs here, so the counts are the rooms' own; an onair session
 * token adds one GetItem per request.
 */
import { createRoomsApp } from "../../functions/rooms/app.js";
import { getConfig } from "../../shared/config/index.js";
import { createDb } from "../../shared/db/index.js";
import { RoomStore, streamIdFor, groupIdFor } from "../../shared/rooms/index.js";
import { createTencentDeps } from "../../shared/tencent/index.js";
import { countRequests, formatCounts, startBenchStack } from "./support.js";

export async function benchRooms(): Promise<void> {
  const { stack, token } = await startBenchStack();
  try {
    const config = getConfig();
    const db = createDb(config);
    const { counts: counted, reset } = countRequests(db);
    const app = createRoomsApp({ db, config, tencent: createTencentDeps(config) });
    const host = await token("bench_host");
    const viewer = await token("bench_viewer");
    const call = async (method: string, path: string, bearer: string, body?: unknown) => {
      reset();
      const response = await app.request(path, {
        method,
        headers: { authorization: `Bearer ${bearer}`, ...(body ? { "content-type": "application/json" } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
      return { json: (await response.json()) as Record<string, any>, counts: { ...counted } };
    };

    const rows: [string, Record<string, number>][] = [];
    const created = await call("POST", "/v1/rooms", host, { title: "bench" });
    rows.push(["create", created.counts]);
    const roomId = created.json.roomId as number;
    rows.push(["live", (await call("POST", `/v1/rooms/${roomId}/live`, host)).counts]);
    rows.push(["heartbeat", (await call("POST", `/v1/rooms/${roomId}/heartbeat`, host)).counts]);
    rows.push(["join (first)", (await call("POST", `/v1/rooms/${roomId}/members`, viewer)).counts]);
    rows.push(["join (repeat)", (await call("POST", `/v1/rooms/${roomId}/members`, viewer)).counts]);
    rows.push(["like", (await call("POST", `/v1/rooms/${roomId}/likes`, viewer, { count: 3 })).counts]);
    rows.push(["get", (await call("GET", `/v1/rooms/${roomId}`, viewer)).counts]);
    rows.push(["list new (20)", (await call("GET", "/v1/rooms?sort=new", viewer)).counts]);
    rows.push(["list hot (20)", (await call("GET", "/v1/rooms?sort=hot", viewer)).counts]);
    rows.push(["leave", (await call("DELETE", `/v1/rooms/${roomId}/members/me`, viewer)).counts]);
    rows.push(["close (4 effects)", (await call("POST", `/v1/rooms/${roomId}/close`, host)).counts]);
    console.log("DynamoDB requests per operation (counted)");
    console.log("operation            total  by command");
    for (const [name, counts] of rows) {
      const total = Object.values(counts).reduce((sum, n) => sum + n, 0);
      console.log(`${name.padEnd(20)} ${String(total).padStart(5)}  ${formatCounts(counts)}`);
    }

    // 1,000 live rooms written straight through the store (no IM calls), then list latency.
    const store = new RoomStore(db);
    const now = Date.now();
    for (let batch = 0; batch < 1000; batch += 50) {
      await Promise.all(
        Array.from({ length: 50 }, async (_, i) => {
          const id = await store.allocateRoomId();
          const room = { roomId: id, hostId: `h${batch + i}`, title: "load", status: "created" as const, groupId: groupIdFor(id), streamId: streamIdFor(config.sdkAppId, id, `h${batch + i}`), createdAt: now, lastHeartbeatAt: now, cohosts: {}, heat: (batch + i) * 7 % 1000, online: 0, peakViewers: 0 };
          await store.putNewRoom(room);
          await store.markLive(room, now + batch + i);
        }),
      );
    }
    console.log("\nGET /v1/rooms with 1,000 live rooms (in-process app, DynamoDB Local on loopback; median and p90 of 50)");
    for (const sort of ["new", "hot"]) {
      for (const limit of [20, 100]) {
        const times: number[] = [];
        for (let i = 0; i < 50; i++) {
          const started = performance.now();
          const { json } = await call("GET", `/v1/rooms?sort=${sort}&limit=${limit}`, viewer);
          times.push(performance.now() - started);
          if (json.items.length !== limit) throw new Error(`expected ${limit} rooms, got ${json.items.length}`);
        }
        times.sort((a, b) => a - b);
        const requests = Object.values(counted).reduce((sum, n) => sum + n, 0);
        console.log(`sort=${sort} limit=${String(limit).padEnd(4)} median ${times[25]!.toFixed(1)} ms  p90 ${times[45]!.toFixed(1)} ms  (${requests} DynamoDB requests)`);
      }
    }
    db.doc.destroy();
  } finally {
    await stack.stop();
  }
}
