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
 * Two phases, each printing REST calls/s, group messages/s per room, gifts per message, p50/p99
 * from the charge's commit to the delivery of the message carrying the gift, messages dropped by
 * frequency control, DynamoDB requests and item writes per gift, and DynamoDB Local's own
 * latency (it is the machine's ceiling here: a 2-core machine's DynamoDB Local carries a few
 * hundred writes/s):
 * - "billed": whole gift requests (charge transaction, then the wait for the broadcast), closed
 *   loop with a bounded number in flight. DynamoDB Local on a small machine bills far fewer
 *   transactions per second than the model asks, so this prints the rate it reached.
 * - "broadcast": the pending gifts written at the model's rates with the Put a charge makes (no
 *   money items), each followed by the same wait: the aggregation under the full load.
 */
import { randomUUID } from "node:crypto";
import { PutCommand } from "../../shared/db/commands.js";
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

type Room = { roomId: number; groupId: string };

export async function benchBroadcasts(): Promise<void> {
  const { stack, token } = await startBenchStack();
  try {
    const config = getConfig();
    const log = createLogger({ service: "bench" });
    const delays: number[] = [];
    // When each gift's charge committed: its request asks for its broadcast right after.
    const committedAt = new Map<string, number>();
    const services = Array.from({ length: instances }, () => {
      const db = createDb(config);
      const requests = countRequests(db);
      const tencent = createTencentDeps(config);
      const broadcaster = new Broadcaster({
        db,
        im: tencent.im,
        log,
        settings: config.broadcasts,
        onSent: (_room, giftKeys) => {
          for (const key of giftKeys) {
            const at = committedAt.get(key);
            if (at !== undefined) delays.push(Date.now() - at);
            committedAt.delete(key);
          }
        },
      });
      const deliver = broadcaster.deliver.bind(broadcaster);
      broadcaster.deliver = (room, giftKey, waitMs) => {
        committedAt.set(giftKey, Date.now());
        return deliver(room, giftKey, waitMs);
      };
      return { db, requests, broadcaster, billing: new BillingService({ wallets: new WalletStore(db), rooms: new RoomStore(db), tencent, log, broadcaster }) };
    });

    const open = async (title: string): Promise<Room> => {
      const host = `bench_bh_${randomUUID().slice(0, 8)}`;
      const auth = { authorization: `Bearer ${await token(host)}`, "content-type": "application/json" };
      const room = (await (await fetch(`${stack.url}/v1/rooms`, { method: "POST", headers: auth, body: JSON.stringify({ title }) })).json()) as Room;
      await fetch(`${stack.url}/v1/rooms/${room.roomId}/live`, { method: "POST", headers: auth });
      return room;
    };
    const hot = await open("hot");
    const cold: Room[] = [];
    for (let i = 0; i < coldRooms; i++) cold.push(await open(`cold ${i}`));
    const senders = Array.from({ length: 300 }, (_, i) => `bench_bs_${i}_${randomUUID().slice(0, 6)}`);
    const wallets = new WalletStore(services[0]!.db);
    for (const sender of senders) {
      await wallets.credit(sender, 100_000_000, "bench", { scope: `admin:${randomUUID()}`, fingerprint: "b", status: "completed", response: { status: 201, body: {} }, createdAt: Date.now(), expiresAt: Date.now() + 3_600_000 });
    }
    const giftIds = ["rose", "heart", "cake"];
    const values = { rose: 1, heart: 5, cake: 20 } as Record<string, number>;

    /**
     * Gifts into every room at its rate for the run, at most `inFlight(room)` at once, each by
     * `gift`; then what the requests left queued is flushed (the sweeper's part), and the figures.
     */
    const phase = async (title: string, inFlight: { hot: number; cold: number }, gift: (room: Room, n: number) => Promise<boolean>) => {
      delays.length = 0;
      for (const service of services) service.requests.reset();
      const callsBefore = stack.emulator.state.calls.length;
      const groupsBefore = new Map(stack.emulator.state.groups.map((g) => [g.groupId, { messages: g.messages.length, dropped: g.dropped.length }]));
      let failed = 0;
      const stream = async (room: Room, rate: number, limit: number, offset: number): Promise<number> => {
        let done = 0;
        let sent = 0;
        const end = performance.now() + seconds * 1000;
        const start = performance.now();
        const running = new Set<Promise<void>>();
        while (performance.now() < end) {
          const due = Math.floor(((performance.now() - start) / 1000) * rate);
          if (sent >= due || running.size >= limit) {
            await (running.size >= limit ? Promise.race(running) : new Promise((resolve) => setTimeout(resolve, Math.max(1, 1000 / rate))));
            continue;
          }
          const tracked: Promise<void> = gift(room, offset + sent++)
            .then(
              (ok) => void (ok ? done++ : failed++),
              () => void failed++,
            )
            .finally(() => running.delete(tracked));
          running.add(tracked);
        }
        await Promise.all(running);
        return done;
      };
      const started = performance.now();
      const [hotDone = 0, ...coldDone] = await Promise.all([stream(hot, hotRate, inFlight.hot, 0), ...cold.map((room, i) => stream(room, coldRate, inFlight.cold, (i + 1) * 7))]);
      const elapsed = (performance.now() - started) / 1000;
      // A room whose drain DynamoDB Local refused is counted, not fatal: the sweeper would send it.
      const undrained = (await Promise.all([hot, ...cold].map((room) => services[0]!.broadcaster.flushAll(room, Date.now() + 30_000).catch(() => false)))).filter((emptied) => !emptied).length;
      const drained = (performance.now() - started) / 1000;

      const done = hotDone + coldDone.reduce((a, b) => a + b, 0);
      const calls = stack.emulator.state.calls.slice(callsBefore).filter((c) => c.action === "send_group_msg");
      const groups = new Map(stack.emulator.state.groups.map((g) => [g.groupId, g]));
      const delta = (room: Room) => {
        const group = groups.get(room.groupId)!;
        const before = groupsBefore.get(room.groupId) ?? { messages: 0, dropped: 0 };
        return { messages: group.messages.length - before.messages, dropped: group.dropped.length - before.dropped };
      };
      const hotMessages = delta(hot).messages;
      const coldMessages = cold.map((room) => delta(room).messages);
      const allMessages = hotMessages + coldMessages.reduce((a, b) => a + b, 0);
      const dropped = [hot, ...cold].reduce((sum, room) => sum + delta(room).dropped, 0);
      delays.sort((a, b) => a - b);
      const at = (q: number) => delays[Math.min(delays.length - 1, Math.floor(q * delays.length))] ?? NaN;
      const counts: Record<string, number> = {};
      for (const service of services) for (const [command, n] of Object.entries(service.requests.counts)) counts[command] = (counts[command] ?? 0) + n;
      const total = Object.values(counts).reduce((a, b) => a + b, 0);
      const itemWrites = services.reduce((sum, service) => sum + service.requests.itemWrites.count, 0);
      const latencies = services.flatMap((service) => service.requests.latenciesMs).sort((a, b) => a - b);
      const latencyAt = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
      console.log(`\n${title}`);
      console.log(`  reached: ${(done / elapsed).toFixed(0)} gifts/s (${done} gifts, ${failed} failed): hot room ${(hotDone / elapsed).toFixed(0)} gifts/s, other rooms ${(coldDone.reduce((a, b) => a + b, 0) / coldRooms / elapsed).toFixed(1)} gifts/s each`);
      console.log(`  REST send_group_msg: ${(calls.length / drained).toFixed(1)} calls/s, ${calls.filter((c) => c.code === 60007).length} refused (60007)`);
      console.log(`  group messages/s: hot room ${(hotMessages / drained).toFixed(2)}; other rooms mean ${(coldMessages.reduce((a, b) => a + b, 0) / coldRooms / drained).toFixed(2)}, max ${(Math.max(...coldMessages) / drained).toFixed(2)}`);
      console.log(`  gifts per message: ${(delays.length / allMessages).toFixed(1)} overall, hot room ${((hotDone || 1) / (hotMessages || 1)).toFixed(1)} (${allMessages} messages carried ${delays.length} gifts)`);
      console.log(`  charge committed → delivered: p50 ${at(0.5).toFixed(0)} ms, p99 ${at(0.99).toFixed(0)} ms, max ${at(1).toFixed(0)} ms`);
      console.log(`  DynamoDB Local request latency: p50 ${latencyAt(0.5).toFixed(1)} ms, p99 ${latencyAt(0.99).toFixed(1)} ms (${(latencies.length / elapsed).toFixed(0)} requests/s)`);
      console.log(`  messages dropped by frequency control: ${dropped}${undrained > 0 ? `; ${undrained} room(s) not drained within 30 s after the run` : ""}`);
      console.log(`  DynamoDB requests per gift: ${(total / done).toFixed(2)} (${formatCounts(Object.fromEntries(Object.entries(counts).map(([c, n]) => [c, Number((n / done).toFixed(3))])))})`);
      console.log(`  DynamoDB item writes per gift: ${(itemWrites / done).toFixed(2)}`);
    };

    console.log(`broadcasts: ${seconds} s per phase, emulator at IM's limits (${stack.emulator.state.imLimits.groupMessagesPerSecond} messages/s per group, ${stack.emulator.state.imLimits.restCallsPerSecond} REST calls/s), ${instances} instances in-process`);
    console.log(`offered: hot room ${hotRate} gifts/s + ${coldRooms} rooms × ${coldRate} gifts/s = ${hotRate + coldRooms * coldRate} gifts/s`);
    await phase("billed: POST /v1/wallet/gifts's service, 32 in flight in the hot room and 1 in each other room", { hot: 32, cold: 1 }, async (room, n) => {
      const answer = await services[n % instances]!.billing.giftFromApp(senders[n % senders.length]!, { roomId: room.roomId, giftId: giftIds[n % 3]!, count: 1 }, randomUUID());
      return answer.status === 201;
    });
    await phase("broadcast: each gift's pending broadcast Put as its charge writes it, then the same wait", { hot: 1500, cold: 15 }, async (room, n) => {
      const service = services[n % instances]!;
      const giftId = giftIds[n % 3]!;
      const gift = { giftKey: randomUUID().replaceAll("-", ""), from: senders[n % senders.length]!, giftId, count: 1, value: values[giftId]!, createdAt: Date.now() };
      await service.db.doc.send(new PutCommand((service.broadcaster.pendingPut(room, gift) as { Put: ConstructorParameters<typeof PutCommand>[0] }).Put));
      await service.broadcaster.deliver(room, gift.giftKey);
      return true;
    });
    for (const service of services) service.db.doc.destroy();
  } finally {
    await stack.stop();
  }
}
