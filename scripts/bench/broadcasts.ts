/**
 * Room broadcasts: app gifts (mode b) at the load model's rates, with the emulator at IM's
 * documented limits (40 messages/s per group, 200 REST calls/s per command). In one run: one hot
 * room at BENCH_HOT_GIFTS_PER_SECOND (1,000) and BENCH_ROOMS (100) rooms at 10 gifts/s each, for
 * BENCH_SECONDS (10). Gifts are billed in-process through BENCH_INSTANCES (4) billing services,
 * each with its own DynamoDB client and broadcaster, as function instances would be; the
 * emulator and DynamoDB Local are the stack's.
 *
 *   npm run bench -- broadcasts
 *
 * Prints the offered and reached gift rates (DynamoDB Local on a small machine bills far fewer
 * transactions per second than the model asks: the reached rate is the honest figure), REST
 * calls/s, group messages/s per room, gifts per message, p50/p99 from billing to delivery,
 * messages dropped by frequency control, and DynamoDB requests per gift.
 */
import { randomUUID } from "node:crypto";
import { BillingService, WalletStore } from "../../shared/billing/index.js";
import { Broadcaster } from "../../shared/broadcasts/index.js";
import { getConfig } from "../../shared/config/index.js";
import { createDb } from "../../shared/db/index.js";
import { createLogger } from "../../shared/log/index.js";
import { RoomStore } from "../../shared/rooms/index.js";
import { createTencentDeps } from "../../shared/tencent/index.js";
import { countRequests, formatCounts, startBenchStack } from "./support.js";

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const hotRate = Number(process.env.BENCH_HOT_GIFTS_PER_SECOND ?? 1000);
const coldRooms = Number(process.env.BENCH_ROOMS ?? 100);
const coldRate = 10;
const instances = Number(process.env.BENCH_INSTANCES ?? 4);
/** Gifts in flight at most, per stream: past it the generator falls behind and says so. */
const hotInFlight = 400;
const coldInFlight = 4;

export async function benchBroadcasts(): Promise<void> {
  const { stack, token } = await startBenchStack();
  try {
    const config = getConfig();
    const log = createLogger({ service: "bench" });
    const delays: number[] = [];
    const services = Array.from({ length: instances }, () => {
      const db = createDb(config);
      const requests = countRequests(db);
      const tencent = createTencentDeps(config);
      const broadcaster = new Broadcaster({ db, im: tencent.im, log, settings: config.broadcasts, onSent: (_room, billedAt) => delays.push(...billedAt.map((t) => Date.now() - t)) });
      return { db, requests, broadcaster, billing: new BillingService({ wallets: new WalletStore(db), rooms: new RoomStore(db), tencent, log, broadcaster }) };
    });

    const open = async (title: string) => {
      const host = `bench_bh_${randomUUID().slice(0, 8)}`;
      const auth = { authorization: `Bearer ${await token(host)}`, "content-type": "application/json" };
      const room = (await (await fetch(`${stack.url}/v1/rooms`, { method: "POST", headers: auth, body: JSON.stringify({ title }) })).json()) as { roomId: number; groupId: string };
      await fetch(`${stack.url}/v1/rooms/${room.roomId}/live`, { method: "POST", headers: auth });
      return room;
    };
    const hot = await open("hot");
    const cold = [];
    for (let i = 0; i < coldRooms; i++) cold.push(await open(`cold ${i}`));
    const senders = Array.from({ length: 300 }, (_, i) => `bench_bs_${i}_${randomUUID().slice(0, 6)}`);
    const wallets = new WalletStore(services[0]!.db);
    for (const sender of senders) {
      await wallets.credit(sender, 100_000_000, "bench", { scope: `admin:${randomUUID()}`, fingerprint: "b", status: "completed", response: { status: 201, body: {} }, createdAt: Date.now(), expiresAt: Date.now() + 3_600_000 });
    }
    for (const service of services) service.requests.reset();
    const callsBefore = stack.emulator.state.calls.length;

    let failed = 0;
    const giftIds = ["rose", "heart", "cake"];
    /** Gifts into one room at `rate`/s for the run, at most `inFlight` at once. */
    const stream = async (room: { roomId: number }, rate: number, inFlight: number, offset: number): Promise<number> => {
      let billed = 0;
      const end = performance.now() + seconds * 1000;
      const start = performance.now();
      let sent = 0;
      const running = new Set<Promise<void>>();
      while (performance.now() < end) {
        const due = Math.floor(((performance.now() - start) / 1000) * rate);
        if (sent >= due || running.size >= inFlight) {
          await (running.size >= inFlight ? Promise.race(running) : new Promise((resolve) => setTimeout(resolve, Math.max(1, 1000 / rate))));
          continue;
        }
        const n = offset + sent++;
        const gift = services[n % instances]!.billing
          .giftFromApp(senders[n % senders.length]!, { roomId: room.roomId, giftId: giftIds[n % 3]!, count: 1 + (n % 3) }, randomUUID())
          .then(
            () => void billed++,
            () => void failed++,
          );
        const tracked = gift.finally(() => running.delete(tracked));
        running.add(tracked);
      }
      await Promise.all(running);
      return billed;
    };
    const started = performance.now();
    const [hotBilled = 0, ...coldBilled] = await Promise.all([stream(hot, hotRate, hotInFlight, 0), ...cold.map((room, i) => stream(room, coldRate, coldInFlight, (i + 1) * 7))]);
    const billed = hotBilled + coldBilled.reduce((a, b) => a + b, 0);
    const elapsed = (performance.now() - started) / 1000;
    // What the requests left queued: the sweeper's part, timed like the rest.
    await Promise.all([hot, ...cold].map((room) => services[0]!.broadcaster.flushAll(room, Date.now() + 30_000)));
    const drained = (performance.now() - started) / 1000;

    const calls = stack.emulator.state.calls.slice(callsBefore).filter((c) => c.action === "send_group_msg");
    const groups = new Map(stack.emulator.state.groups.map((g) => [g.groupId, g]));
    const messages = (groupId: string) => groups.get(groupId)!.messages.filter((m) => (m.body[0] as { MsgContent?: { Desc?: string } }).MsgContent?.Desc === "gifts").length;
    const hotMessages = messages(hot.groupId);
    const coldMessages = cold.map((room) => messages(room.groupId));
    const allMessages = hotMessages + coldMessages.reduce((a, b) => a + b, 0);
    const dropped = [hot, ...cold].reduce((sum, room) => sum + groups.get(room.groupId)!.dropped.length, 0);
    delays.sort((a, b) => a - b);
    const at = (q: number) => delays[Math.min(delays.length - 1, Math.floor(q * delays.length))] ?? NaN;
    const counts: Record<string, number> = {};
    for (const service of services) for (const [command, n] of Object.entries(service.requests.counts)) counts[command] = (counts[command] ?? 0) + n;
    const total = Object.values(counts).reduce((a, b) => a + b, 0);

    console.log(`broadcasts: ${seconds} s, emulator at IM's limits (${stack.emulator.state.imLimits.groupMessagesPerSecond} messages/s per group, ${stack.emulator.state.imLimits.restCallsPerSecond} REST calls/s), ${instances} billing instances in-process`);
    console.log(`offered: hot room ${hotRate} gifts/s + ${coldRooms} rooms × ${coldRate} gifts/s = ${hotRate + coldRooms * coldRate} gifts/s`);
    console.log(`reached: ${(billed / elapsed).toFixed(0)} gifts/s billed (${billed} gifts, ${failed} failed); hot room ${(hotBilled / elapsed).toFixed(0)} gifts/s, other rooms ${(coldBilled.reduce((a, b) => a + b, 0) / coldRooms / elapsed).toFixed(1)} gifts/s each`);
    console.log(`REST send_group_msg: ${(calls.length / drained).toFixed(1)} calls/s, ${calls.filter((c) => c.code === 60007).length} refused (60007)`);
    console.log(`group messages/s: hot room ${(hotMessages / drained).toFixed(2)}; other rooms mean ${(coldMessages.reduce((a, b) => a + b, 0) / coldRooms / drained).toFixed(2)}, max ${(Math.max(...coldMessages) / drained).toFixed(2)}`);
    console.log(`gifts per message: ${(delays.length / allMessages).toFixed(1)} overall (${allMessages} messages carried ${delays.length} gifts)`);
    console.log(`billing → delivery: p50 ${at(0.5).toFixed(0)} ms, p99 ${at(0.99).toFixed(0)} ms, max ${at(1).toFixed(0)} ms`);
    console.log(`messages dropped by frequency control: ${dropped}`);
    console.log(`DynamoDB requests per gift: ${(total / billed).toFixed(2)} (${formatCounts(Object.fromEntries(Object.entries(counts).map(([c, n]) => [c, Number((n / billed).toFixed(3))])))})`);
    for (const service of services) service.db.raw.destroy();
  } finally {
    await stack.stop();
  }
}
