import { randomUUID } from "node:crypto";
import { PutCommand } from "../../shared/db/commands.js";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { BillingService, WalletStore } from "../../shared/billing/index.js";
import { Broadcaster, flushLeaseMs, type PendingGift } from "../../shared/broadcasts/index.js";
import { getConfig } from "../../shared/config/index.js";
import { createDb, type Db } from "../../shared/db/index.js";
import { createLogger } from "../../shared/log/index.js";
import { RoomStore } from "../../shared/rooms/index.js";
import { createTencentDeps, customElem, ImClient, UserSigSigner } from "../../shared/tencent/index.js";
import { startEmulator, type Emulator, type EmulatedGroup } from "../../scripts/emulator/server.js";
import { api, jwtUser, recordClaim } from "../helpers.js";

/**
 * Room gift broadcasts against IM's limits, lowered to 5 messages/s per group and 10 REST
 * calls/s in an emulator of the test's own (so no other test meets them), on the run's DynamoDB
 * Local. Each "instance" is a billing service with its own DynamoDB client and broadcaster, as
 * separate function instances share nothing but the table.
 */
const config = getConfig();
const log = createLogger({ service: "test" });
let emulator: Emulator;
const dbs: Db[] = [];

function instance() {
  const db = createDb(config);
  dbs.push(db);
  const im = new ImClient({ baseUrl: emulator.url, sdkAppId: config.sdkAppId, adminUser: config.imAdminUser, signer: new UserSigSigner(config.sdkAppId, config.userSigKey) });
  const broadcaster = new Broadcaster({ db, im, log, settings: config.broadcasts });
  const billing = new BillingService({ wallets: new WalletStore(db), rooms: new RoomStore(db), tencent: { ...createTencentDeps(config), im }, log, broadcaster });
  return { db, im, broadcaster, billing };
}

/** A live room whose group exists in this test's emulator. */
async function liveRoom() {
  const host = await jwtUser("bh");
  const created = await api("POST", "/v1/rooms", { token: host.token, body: { title: "broadcasts" } });
  const { roomId, groupId } = created.body as { roomId: number; groupId: string };
  await api("POST", `/v1/rooms/${roomId}/live`, { token: host.token });
  await instance().im.call("group_open_http_svc/create_group", { Type: "AVChatRoom", GroupId: groupId, Name: "broadcasts" });
  return { host, roomId, groupId };
}

const groupOf = (groupId: string): EmulatedGroup => emulator.state.groups.find((g) => g.groupId === groupId)!;

/** Every gift entry of the group's delivered broadcasts, summed by sender and gift. */
function broadcastTotals(groupId: string): Map<string, number> {
  const totals = new Map<string, number>();
  for (const message of groupOf(groupId).messages) {
    const data = JSON.parse((message.body[0] as { MsgContent: { Data: string } }).MsgContent.Data) as { type: string; gifts: { from: string; giftId: string; count: number }[] };
    if (data.type !== "gifts") continue;
    for (const entry of data.gifts) totals.set(`${entry.from}/${entry.giftId}`, (totals.get(`${entry.from}/${entry.giftId}`) ?? 0) + entry.count);
  }
  return totals;
}

async function credit(userId: string, amount: number) {
  const answer = await api("POST", `/v1/admin/wallets/${userId}/credits`, { body: { amount, reason: "broadcasts" }, headers: { "x-admin-key": process.env.ONAIR_ADMIN_KEY!, "idempotency-key": randomUUID() } });
  expect(answer.status).toBe(201);
}

/** Pending gifts written as a charge writes them (the flush is under test, not the billing). */
async function pendingGifts(db: Db, roomId: number, groupId: string, n: number, from = "s"): Promise<PendingGift[]> {
  const broadcaster = new Broadcaster({ db, im: instance().im, log, settings: config.broadcasts });
  const gifts = Array.from({ length: n }, (_, i) => ({ giftKey: randomUUID().replaceAll("-", ""), from: n === 1 ? from : `${from}${i}`, giftId: "rose", count: 1, value: 1, createdAt: Date.now() - n + i }));
  for (const gift of gifts) await db.doc.send(new PutCommand((broadcaster.pendingPut({ roomId, groupId }, gift) as { Put: ConstructorParameters<typeof PutCommand>[0] }).Put));
  return gifts;
}

/** Retry as an app does, with the same Idempotency-Key: DynamoDB Local takes a burst of transactions slowly. */
async function asAClient<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      const status = (error as { status?: number }).status;
      if (attempt >= 20 || (status !== 503 && status !== 409)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

beforeAll(async () => {
  emulator = await startEmulator({ sdkAppId: config.sdkAppId, userSigKey: config.userSigKey, imAdminUser: config.imAdminUser, apiSecrets: {}, imLimits: { groupMessagesPerSecond: 5, restCallsPerSecond: 10 } });
});
afterEach(() => {
  vi.restoreAllMocks();
});
afterAll(async () => {
  for (const db of dbs) db.doc.destroy();
  await emulator.stop();
});

describe("room gift broadcasts within IM's limits", () => {
  it("a burst of 120 gifts from 30 senders through 3 instances: every billed gift is broadcast exactly once, none dropped", async () => {
    const { roomId, groupId } = await liveRoom();
    const senders = await Promise.all(Array.from({ length: 30 }, () => jwtUser("bs")));
    await Promise.all(senders.map((sender) => credit(sender.userId, 400)));
    const instances = [instance(), instance(), instance()];
    const billed = new Map<string, number>();
    // Each sender taps 4 gifts one after another; the 30 senders at once.
    const answers = (
      await Promise.all(
        senders.map(async (sender, s) => {
          const mine = [];
          for (let n = 0; n < 4; n++) {
            const key = randomUUID();
            const giftId = ["rose", "heart", "cake"][(s + n) % 3]!;
            const count = 1 + ((s * 4 + n) % 3);
            const answer = await asAClient(() => instances[(s + n) % 3]!.billing.giftFromApp(sender.userId, { roomId, giftId, count }, key));
            if (answer.status === 201) billed.set(`${sender.userId}/${giftId}`, (billed.get(`${sender.userId}/${giftId}`) ?? 0) + count);
            mine.push(answer);
          }
          return mine;
        }),
      )
    ).flat();
    expect(answers.map((a) => a.status)).toEqual(Array(120).fill(201));
    expect(new Set(answers.map((a) => a.body.delivery))).toSatisfy((set: Set<string>) => [...set].every((d) => d === "sent" || d === "queued"));
    // What the requests left queued goes out in the next flushes (the sweeper's part).
    for (let round = 0; round < 10 && (await instances[0]!.broadcaster.store.hasPending(roomId)); round++) {
      await instances[round % 3]!.broadcaster.flushAll({ roomId, groupId }, Date.now() + 5_000);
    }
    expect(await instances[0]!.broadcaster.store.hasPending(roomId)).toBe(false);
    expect(broadcastTotals(groupId)).toEqual(billed);
    expect(groupOf(groupId).dropped).toEqual([]);
    // Far fewer messages than gifts, and within the group's rate in every second.
    const times = groupOf(groupId).messages.map((m) => m.time);
    expect(times.length).toBeLessThan(40);
    expect(Math.max(...times.map((t) => times.filter((u) => u === t).length))).toBeLessThanOrEqual(5);
    // A refused call (60007) only delayed its gifts: every one of them arrived above.
    const refused = emulator.state.calls.filter((c) => c.code === 60007).length;
    expect(refused).toBeLessThan(times.length);
  }, 60_000);

  it("three instances flushing one room at once, one send unanswered: no gift lost or doubled", async () => {
    const { roomId, groupId } = await liveRoom();
    const instances = [instance(), instance(), instance()];
    const gifts = await pendingGifts(instances[0]!.db, roomId, groupId, 200);
    // The first send's answer is lost after IM delivered it (IM answers after the client gave up).
    await fetch(`${emulator.url}/_control/faults`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ action: "send_group_msg", match: groupId, delayMs: 4_000, times: 1 }) });
    const emptied = await Promise.all(instances.map((i) => i.broadcaster.flushAll({ roomId, groupId }, Date.now() + 20_000)));
    expect(emptied).toEqual([true, true, true]);
    expect(broadcastTotals(groupId)).toEqual(new Map(gifts.map((g) => [`${g.from}/rose`, 1])));
    expect(groupOf(groupId).messages.length).toBeGreaterThan(1);
    expect(await instances[0]!.broadcaster.store.hasPending(roomId)).toBe(false);
  }, 60_000);

  it("a flusher that crashed after sending is taken over: its message is resent unchanged and IM keeps one copy", async () => {
    const { roomId, groupId } = await liveRoom();
    const { db, im, broadcaster } = instance();
    const gifts = await pendingGifts(db, roomId, groupId, 5);
    // The dead flusher claimed the gifts for its message, sent it, and died.
    const batch = await recordClaim(broadcaster.store, roomId, gifts, "dead-instance:1", Date.now() - flushLeaseMs - 1_000);
    await im.sendGroupMessage(groupId, customElem({ ...batch.message }, "gifts"), batch.random);

    expect(await broadcaster.flushAll({ roomId, groupId }, Date.now() + 5_000)).toBe(true);
    expect(groupOf(groupId).messages).toHaveLength(1);
    expect(broadcastTotals(groupId)).toEqual(new Map(gifts.map((g) => [`${g.from}/rose`, 1])));
    expect(await broadcaster.store.hasPending(roomId)).toBe(false);
  });

  it("a live flusher's message is not taken: another instance waits its turn", async () => {
    const { roomId, groupId } = await liveRoom();
    const { broadcaster } = instance();
    const gifts = await pendingGifts(broadcaster.store.db, roomId, groupId, 3);
    await recordClaim(broadcaster.store, roomId, gifts, "busy-instance:1", Date.now());
    expect(await broadcaster.flushAll({ roomId, groupId }, Date.now() + 1_000)).toBe(false);
    expect(groupOf(groupId).messages).toHaveLength(0);
  });

  it("an instance waiting on another's message only reads, and takes it over once its lease is given back", async () => {
    const { roomId, groupId } = await liveRoom();
    const { db, broadcaster } = instance();
    const gifts = await pendingGifts(db, roomId, groupId, 3);
    await recordClaim(broadcaster.store, roomId, gifts, "busy-instance:1", Date.now());
    const calls = observe(db);
    // Three of the room's 500 ms intervals while the other flusher holds its message, then it gives
    // the lease back (as after a send no one answered).
    const flushed = broadcaster.flushAll({ roomId, groupId }, Date.now() + 5_000);
    await new Promise((resolve) => setTimeout(resolve, 1_600));
    const writesWhileHeld = calls.filter((c) => c.operation === "UpdateItem" || c.operation === "TransactWriteItems").length;
    const readsWhileHeld = calls.filter((c) => c.operation === "GetItem").length;
    const held = await broadcaster.store.flushState(roomId);
    expect(await broadcaster.store.write(roomId, held!.version, { leaseUntil: 0 }, Date.now())).toMatchObject({ ok: true });
    expect(await flushed).toBe(true);

    expect(writesWhileHeld).toBe(0);
    expect(readsWhileHeld).toBeGreaterThanOrEqual(2);
    expect(groupOf(groupId).messages).toHaveLength(1);
    expect(broadcastTotals(groupId)).toEqual(new Map(gifts.map((g) => [`${g.from}/rose`, 1])));
  });

  it("a quiet room's message costs one write to the flush state (its claim), its gift's delete settles it, and a flush that finds nothing writes nothing", async () => {
    const { roomId, groupId } = await liveRoom();
    const { db, broadcaster } = instance();
    const calls = observe(db);
    for (const from of ["q1", "q2"]) {
      const [gift] = await pendingGifts(db, roomId, groupId, 1, from);
      calls.length = 0;
      expect(await broadcaster.deliver({ roomId, groupId }, gift!.giftKey)).toBe("sent");
      // Its request answers as the message is sent: give the loop time to finish whatever it does after.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(calls.filter((c) => c.operation === "UpdateItem")).toHaveLength(1);
      expect(calls.filter((c) => c.operation === "TransactWriteItems")).toHaveLength(1);
      expect(calls.filter((c) => !["UpdateItem", "TransactWriteItems", "GetItem", "Query", "BatchGetItem"].includes(c.operation))).toEqual([]);
    }
    expect(broadcastTotals(groupId)).toEqual(new Map([["q1/rose", 1], ["q2/rose", 1]]));
    calls.length = 0;
    expect(await broadcaster.flushAll({ roomId, groupId }, Date.now() + 5_000)).toBe(true);
    expect(calls.filter((c) => c.operation === "UpdateItem" || c.operation === "TransactWriteItems" || c.operation === "PutItem")).toEqual([]);
  });

  it("three instances with gifts in one room take turns without meeting at each: close to one flush-state write per message", async () => {
    const { roomId, groupId } = await liveRoom();
    const instances = [instance(), instance(), instance()];
    const calls = instances.map((i) => observe(i.db));
    const waits: Promise<string>[] = [];
    // 60 gifts, 50 ms apart, round robin: every instance's request loop is running the whole time.
    for (let n = 0; n < 60; n++) {
      const { db, broadcaster } = instances[n % 3]!;
      const [gift] = await pendingGifts(db, roomId, groupId, 1, `t${n}`);
      waits.push(broadcaster.deliver({ roomId, groupId }, gift!.giftKey));
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await Promise.all(waits);
    expect(await instances[0]!.broadcaster.flushAll({ roomId, groupId }, Date.now() + 10_000)).toBe(true);
    const messages = groupOf(groupId).messages.length;
    const claims = calls.flat().filter((c) => c.operation === "UpdateItem").length;
    expect(broadcastTotals(groupId)).toEqual(new Map(Array.from({ length: 60 }, (_, n) => [`t${n}/rose`, 1])));
    // 23 claims for 8 messages when every instance tries at each turn; about one each when they hand off.
    expect(claims).toBeLessThan(2 * messages);
  }, 60_000);

  it("a claim made from a read that another instance's whole flush overtook is refused: the gifts that flush carried are not sent again", async () => {
    const { roomId, groupId } = await liveRoom();
    const a = instance();
    const b = instance();
    const gifts = await pendingGifts(a.db, roomId, groupId, 4);
    const write = a.broadcaster.store.write.bind(a.broadcaster.store);
    let overtaken = false;
    // Between a's read of the pending gifts and its claim, b claims, sends and deletes the same gifts.
    vi.spyOn(a.broadcaster.store, "write").mockImplementation(async (...args) => {
      if (!overtaken) {
        overtaken = true;
        expect(await b.broadcaster.flushAll({ roomId, groupId }, Date.now() + 5_000)).toBe(true);
      }
      return write(...args);
    });
    expect(await a.broadcaster.flushAll({ roomId, groupId }, Date.now() + 5_000)).toBe(true);
    expect(overtaken).toBe(true);
    expect(groupOf(groupId).messages).toHaveLength(1);
    expect(broadcastTotals(groupId)).toEqual(new Map(gifts.map((g) => [`${g.from}/rose`, 1])));
  });
});

/** Record every DynamoDB call the instance's client makes, from now on. */
function observe(db: Db) {
  const calls: { operation: string }[] = [];
  db.doc.observer = (operation) => void calls.push({ operation });
  return calls;
}
