/**
 * Per-request CPU of a function's process: a UserSig request, a room read, a hot-list page and
 * a billed IM gift callback, each an SCF event handed to the built bundle's `main_handler` in
 * this process, as SCF would. DynamoDB Local is a process of its own, so its work is not
 * counted; log lines are formatted at the deployed level (`info`) and dropped instead of
 * written. Figures are `process.cpuUsage()` deltas over rounds of `perRound` requests, medians
 * of `rounds`. `--compare <dist dir | git ref>` loads another build's bundles too and alternates
 * the two round by round, so both see the same machine. `BENCH_ROUTE=<name>` runs one route
 * (to profile it with `node --cpu-prof --import tsx scripts/bench/index.ts requests`).
 *
 *   npm run bench -- requests --compare main
 */
import { randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import { join } from "node:path";
import { WalletStore } from "../../shared/billing/index.js";
import { getConfig } from "../../shared/config/index.js";
import { createDb } from "../../shared/db/index.js";
import type { ScfHttpEvent, ScfHttpResult } from "../../shared/http/index.js";
import { signImCallback } from "../../shared/signatures/index.js";
import { buildAll, root } from "../build.js";
import { startStack } from "../local/stack.js";

const rounds = 15;
const perRound = 20;
const warmup = 40;
const liveRooms = 30;

type Handler = (event: ScfHttpEvent, context: { request_id: string }) => Promise<ScfHttpResult>;
type Build = { label: string; handler: (name: string) => Handler };

function loadBuild(label: string, dist: string): Build {
  const require = createRequire(join(dist, "index.js"));
  const handlers = new Map<string, Handler>();
  return {
    label,
    handler: (name) => {
      if (!handlers.has(name)) handlers.set(name, (require(join(dist, name, "index.js")) as { main_handler: Handler }).main_handler);
      return handlers.get(name)!;
    },
  };
}

let counter = 0;
async function send(handler: Handler, method: string, path: string, options: { token?: string; body?: unknown; query?: Record<string, string>; headers?: Record<string, string> } = {}) {
  const event: ScfHttpEvent = {
    httpMethod: method,
    path,
    headers: { host: "bench.local", "x-scf-remote-addr": "203.0.113.9", ...(options.token ? { authorization: `Bearer ${options.token}` } : {}), ...(options.body ? { "content-type": "application/json" } : {}), ...options.headers },
    queryString: options.query ?? {},
    body: options.body === undefined ? "" : JSON.stringify(options.body),
    isBase64Encoded: false,
  };
  const result = await handler(event, { request_id: `bench-${++counter}` });
  if (result.statusCode >= 300) throw new Error(`${method} ${path}: ${result.statusCode} ${result.body}`);
  return JSON.parse(result.body || "null") as Record<string, any>;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

export async function benchRequests(compare?: string): Promise<void> {
  delete process.env.DYNAMODB_FAULTS; // no fault proxy: it would run in this process
  delete process.env.AUTH_JWT_SECRET; // callers hold onair sessions, as most apps' do
  process.env.LOG_LEVEL = "info";
  await buildAll();
  const write = process.stdout.write;
  const stack = await startStack({ port: 0, emulatorPort: 0, sweepIntervalSeconds: 0 });
  // Log lines are built as deployed, then dropped: the bench's output stays readable.
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    const config = getConfig();
    const builds = [loadBuild("this build", join(root, "dist")), ...(compare ? [loadBuild("compared", compare)] : [])];
    const base = builds[0]!;
    const usersig = base.handler("usersig");
    const rooms = base.handler("rooms");
    const login = async (userId: string) => {
      await send(usersig, "POST", "/v1/accounts", { body: { userId, password: "bench-password-1" }, headers: { "x-scf-remote-addr": `198.51.100.${counter % 250}` } });
      return (await send(usersig, "POST", "/v1/sessions", { body: { userId, password: "bench-password-1" } })).token as string;
    };
    const run = Date.now().toString(36);
    const viewer = await login(`viewer_${run}`);
    let roomId = 0;
    let groupId = "";
    for (let i = 0; i < liveRooms; i++) {
      const host = await login(`host${i}_${run}`);
      const room = await send(rooms, "POST", "/v1/rooms", { token: host, body: { title: `bench ${i}` } });
      await send(rooms, "POST", `/v1/rooms/${room.roomId}/live`, { token: host });
      await send(rooms, "POST", `/v1/rooms/${room.roomId}/likes`, { token: viewer, body: { count: i + 1 } });
      ({ roomId, groupId } = room as { roomId: number; groupId: string });
    }
    await send(rooms, "POST", `/v1/rooms/${roomId}/members`, { token: viewer });
    const sender = `sender_${run}`;
    const db = createDb(config);
    await new WalletStore(db).credit(sender, 100_000_000, "bench", { scope: `admin:${randomUUID()}`, fingerprint: "bench", status: "completed", response: { status: 201, body: {} }, createdAt: Date.now(), expiresAt: Date.now() + 3_600_000 });
    db.doc.destroy();

    const routes: [string, (build: Build) => Promise<unknown>][] = [
      ["UserSig", (build) => send(build.handler("usersig"), "POST", "/v1/usersig", { token: viewer })],
      ["room read", (build) => send(build.handler("rooms"), "GET", `/v1/rooms/${roomId}`, { token: viewer })],
      ["hot list (20)", (build) => send(build.handler("rooms"), "GET", "/v1/rooms", { token: viewer, query: { sort: "hot" } })],
      [
        "gift callback",
        async (build) => {
          const random = Math.floor(Math.random() * 2 ** 32);
          const reply = await send(build.handler("im-callback"), "POST", "/v1/callbacks/im", {
            query: { SdkAppid: String(config.sdkAppId), CallbackCommand: "Group.CallbackBeforeSendMsg", contenttype: "json", ...signImCallback(config.imCallbackToken, Math.floor(Date.now() / 1000)) },
            body: {
              CallbackCommand: "Group.CallbackBeforeSendMsg",
              GroupId: groupId,
              Type: "AVChatRoom",
              From_Account: sender,
              Random: random,
              MsgId: `${random}-${Date.now()}`,
              MsgBody: [{ MsgType: "TIMCustomElem", MsgContent: { Data: '{"type":"gift","giftId":"rose","count":1}', Desc: "gift", Ext: "" } }],
            },
          });
          if (reply.ErrorCode !== 0) throw new Error(`gift refused: ${JSON.stringify(reply)}`);
        },
      ],
    ];

    const cpuMs: Map<string, number[]> = new Map();
    for (const [route, request] of routes.filter(([name]) => !process.env.BENCH_ROUTE || name === process.env.BENCH_ROUTE)) {
      for (const build of builds) for (let i = 0; i < warmup; i++) await request(build);
      for (let round = 0; round < rounds; round++) {
        // Alternate which build goes first, so neither always follows the other's garbage.
        for (const build of round % 2 === 0 ? builds : [...builds].reverse()) {
          const before = process.cpuUsage();
          for (let i = 0; i < perRound; i++) await request(build);
          const used = process.cpuUsage(before);
          const key = `${route}\0${build.label}`;
          cpuMs.set(key, [...(cpuMs.get(key) ?? []), (used.user + used.system) / 1000 / perRound]);
        }
      }
    }

    process.stdout.write = write;
    console.log(`per-request CPU of the function process (SCF event to main_handler; medians of ${rounds} rounds of ${perRound} requests, LOG_LEVEL=info)`);
    console.log(`route            ${builds.map((b) => b.label.padStart(12)).join("")}${compare ? "   this/compared" : ""}`);
    for (const [route] of routes.filter(([name]) => cpuMs.has(`${name}\0this build`))) {
      const medians = builds.map((build) => median(cpuMs.get(`${route}\0${build.label}`)!));
      console.log(`${route.padEnd(16)} ${medians.map((ms) => `${ms.toFixed(2)} ms`.padStart(12)).join("")}${compare ? (medians[0]! / medians[1]!).toFixed(2).padStart(16) : ""}`);
    }
    if (compare) console.log(`compared: ${compare}`);
  } finally {
    process.stdout.write = write;
    await stack.stop();
  }
}
