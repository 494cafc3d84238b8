import { randomUUID } from "node:crypto";
import { BatchWriteCommand, GetCommand, PutCommand } from "../../shared/db/commands.js";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { startEmulator, type Emulator } from "../../scripts/emulator/server.js";
import { Broadcaster, flushLeaseMs, flushStateKey, maxRefusals, type PendingGift } from "../../shared/broadcasts/index.js";
import { getConfig } from "../../shared/config/index.js";
import { createDb, type Db } from "../../shared/db/index.js";
import { createLogger } from "../../shared/log/index.js";
import { ImClient, UserSigSigner } from "../../shared/tencent/index.js";
import { recordClaim, setDynamoDbFaults } from "../helpers.js";

/**
 * Room broadcasts after things go wrong, most cases found by a hostile review: a flusher stopped
 * after IM took its message, deletes DynamoDB throttles, a gift joining a loop as it ends, a
 * refusal in a quiet room, a message IM refuses for good, and a room whose stuck gifts could hide
 * the others from the sweeper.
 */
const config = getConfig();
const log = createLogger({ service: "test" });
let emulator: Emulator;
const dbs: Db[] = [];

/** The admin's IM client, against this test's own emulator. */
const imClient = () => new ImClient({ baseUrl: emulator.url, sdkAppId: config.sdkAppId, adminUser: config.imAdminUser, signer: new UserSigSigner(config.sdkAppId, config.userSigKey) });

function instance() {
  const db = createDb(config);
  dbs.push(db);
  return { db, broadcaster: new Broadcaster({ db, im: imClient(), log, settings: config.broadcasts }) };
}

async function room() {
  const roomId = 900_000 + Math.floor(Math.random() * 99_999);
  const groupId = `recovery_${roomId}`;
  await imClient().call("group_open_http_svc/create_group", { Type: "AVChatRoom", GroupId: groupId, Name: "recovery" });
  return { roomId, groupId };
}

async function bill(broadcaster: Broadcaster, target: { roomId: number; groupId: string }, from: string, createdAt = Date.now()): Promise<PendingGift> {
  const gift = { giftKey: randomUUID().replaceAll("-", ""), from, giftId: "rose", count: 1, value: 1, createdAt };
  await broadcaster.store.db.doc.send(new PutCommand((broadcaster.pendingPut(target, gift) as { Put: ConstructorParameters<typeof PutCommand>[0] }).Put));
  return gift;
}

const sendersIn = (groupId: string) =>
  emulator.state.groups.find((g) => g.groupId === groupId)!.messages.flatMap((m) => (JSON.parse((m.body[0] as { MsgContent: { Data: string } }).MsgContent.Data).gifts as { from: string }[]).map((g) => g.from));

const imFault = (fault: Record<string, unknown>) => fetch(`${emulator.url}/_control/faults`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(fault) });
beforeAll(async () => {
  emulator = await startEmulator({ sdkAppId: config.sdkAppId, userSigKey: config.userSigKey, imAdminUser: config.imAdminUser, apiSecrets: {} });
});
afterEach(async () => {
  vi.restoreAllMocks();
  await setDynamoDbFaults({});
});
afterAll(async () => {
  for (const db of dbs) db.doc.destroy();
  await emulator.stop();
});

describe("room broadcasts after failures", () => {
  it("never resends a message IM took, even when its flusher stopped before deleting its gifts and the next flush comes after IM's 5-minute window", async () => {
    const target = await room();
    const first = instance();
    await bill(first.broadcaster, target, "g1");
    // The claim, IM takes the message; then DynamoDB refuses every delete of its gift, and the
    // flusher records the delivery instead (then stops, as good as dead).
    await setDynamoDbFaults({ operations: ["TransactWriteItems"], match: [`BCAST#${target.roomId}`], sequence: Array(40).fill("throttle") });
    await first.broadcaster.flushAll(target, Date.now() + 3_000).catch(() => undefined);
    await setDynamoDbFaults({});
    expect(sendersIn(target.groupId)).toEqual(["g1"]);
    expect((await state(first.db, target.roomId)).inflight).toMatchObject({ delivered: true });
    pastImDuplicateWindow();
    const next = instance();
    const g2 = await bill(next.broadcaster, target, "g2");
    expect(await next.broadcaster.deliver(target, g2.giftKey)).toBe("sent");
    expect(sendersIn(target.groupId)).toEqual(["g1", "g2"]);
    expect(await next.broadcaster.store.hasPending(target.roomId)).toBe(false);
  }, 60_000);

  it("settles a delivered message whose gift deletes DynamoDB refuses: recorded as delivered, deleted on the next turn, sent once", async () => {
    const target = await room();
    const a = instance();
    const gift = await bill(a.broadcaster, target, "steps");
    await setDynamoDbFaults({ operations: ["TransactWriteItems"], match: [`BCAST#${target.roomId}`], throttle: 1 });
    // IM took it; every delete fails, so the delivery is recorded and the request answers.
    expect(await a.broadcaster.deliver(target, gift.giftKey, 15_000)).toBe("sent");
    expect((await state(a.db, target.roomId)).inflight).toMatchObject({ delivered: true });
    await setDynamoDbFaults({});
    // The request's loop goes on and deletes the gift on the room's next turn, without the sweeper.
    await vi.waitFor(async () => expect(await a.broadcaster.store.hasPending(target.roomId)).toBe(false), { timeout: 5_000, interval: 100 });
    expect(sendersIn(target.groupId)).toEqual(["steps"]);
  }, 30_000);

  it("records a message as delivered when its gift deletes stay contended past their budget, so it is never sent again", async () => {
    const target = await room();
    const a = instance();
    const gift = await bill(a.broadcaster, target, "c1");
    // Every attempt of the deletes' transaction conflicts: DynamoDB answers, and nothing is deleted.
    await setDynamoDbFaults({ operations: ["TransactWriteItems"], match: [`BCAST#${target.roomId}#`], conflict: 1 });
    expect(await a.broadcaster.deliver(target, gift.giftKey, 5_000)).toBe("sent");
    expect((await state(a.db, target.roomId)).inflight).toMatchObject({ delivered: true });
    await setDynamoDbFaults({});
    // Past IM's 5-minute window, another instance finds the gift still pending: it deletes it and sends nothing.
    pastImDuplicateWindow();
    expect(await instance().broadcaster.flushAll(target, Date.now() + 10_000)).toBe(true);
    expect(sendersIn(target.groupId)).toEqual(["c1"]);
  }, 30_000);

  it("does not wait for the lease of a message recorded as delivered: another instance finishes its deletes at once", async () => {
    const target = await room();
    const a = instance();
    const b = instance();
    await bill(a.broadcaster, target, "u1");
    // a's message arrives, its deletes fail once, it is recorded as delivered, and a's flush ends on its deadline.
    vi.spyOn(a.broadcaster.store, "deleteGifts").mockRejectedValueOnce(new Error("deletes failed"));
    expect(await a.broadcaster.flushAll(target, Date.now() + 300)).toBe(false);
    expect((await state(a.db, target.roomId)).inflight).toMatchObject({ delivered: true });
    const u2 = await bill(b.broadcaster, target, "u2");
    // Within a request's wait (1.5 s), where the lease has 4 s or more to run.
    expect(await b.broadcaster.deliver(target, u2.giftKey)).toBe("sent");
    expect(sendersIn(target.groupId)).toEqual(["u1", "u2"]);
    expect(await b.broadcaster.store.hasPending(target.roomId)).toBe(false);
  }, 30_000);

  it("finishes a stopped flusher's message whose deletes had begun, without sending it again", async () => {
    const target = await room();
    const a = instance();
    const gifts = [await bill(a.broadcaster, target, "p1"), await bill(a.broadcaster, target, "p2"), await bill(a.broadcaster, target, "p3")];
    // Its flusher claimed the three, IM took the message, one delete landed, and it died.
    const { gifts: sks } = await recordClaim(a.broadcaster.store, target.roomId, gifts, "dead:1", Date.now() - flushLeaseMs - 1_000);
    await a.broadcaster.store.deleteGifts(target.roomId, [sks[1]!]);

    expect(await a.broadcaster.flushAll(target, Date.now() + 5_000)).toBe(true);
    expect(sendersIn(target.groupId)).toEqual([]);
    expect(await a.broadcaster.store.hasPending(target.roomId)).toBe(false);
  }, 30_000);

  it("never drops a resent message IM refuses: the first send may have arrived, so its gifts are not put in a new one", async () => {
    const target = await room();
    const a = instance();
    for (const from of ["x1", "x2", "x3"]) await bill(a.broadcaster, target, from);
    // The first send reaches the group but its answer comes after the client gave up; the resend meets IM's frequency limit.
    await imFault({ action: "send_group_msg", match: target.groupId, delayMs: 4_000, times: 1 });
    await imFault({ action: "send_group_msg", match: target.groupId, code: 60007, times: 1 });
    expect(await a.broadcaster.flushAll(target, Date.now() + 20_000)).toBe(true);
    expect(sendersIn(target.groupId).sort()).toEqual(["x1", "x2", "x3"]);
  }, 60_000);

  it("never drops a stopped flusher's message when IM refuses its takeover's resend", async () => {
    const target = await room();
    const a = instance();
    const b = instance();
    for (const from of ["y1", "y2"]) await bill(a.broadcaster, target, from);
    // a's message reaches the group, then a stops before deleting its gifts.
    vi.spyOn(a.broadcaster.store, "deleteGifts").mockImplementation(() => new Promise(() => undefined));
    void a.broadcaster.flushAll(target, Date.now() + 1_000);
    await vi.waitFor(() => expect(sendersIn(target.groupId)).toHaveLength(2), { timeout: 5_000, interval: 50 });
    await imFault({ action: "send_group_msg", match: target.groupId, code: 60007, times: 1 });
    // After a's lease, b takes the message over; its resend is refused once, then taken (IM keeps one copy).
    await new Promise((resolve) => setTimeout(resolve, flushLeaseMs + 200));
    expect(await b.broadcaster.flushAll(target, Date.now() + 15_000)).toBe(true);
    expect(sendersIn(target.groupId).sort()).toEqual(["y1", "y2"]);
  }, 60_000);

  it("keeps a close's flush going when a delivered message's deletes are refused once, until they are done", async () => {
    const target = await room();
    const a = instance();
    const gifts = [await bill(a.broadcaster, target, "d1"), await bill(a.broadcaster, target, "d2")];
    // A stopped flusher's message, recorded as delivered, its gifts still pending.
    await recordClaim(a.broadcaster.store, target.roomId, gifts, "dead:1", Date.now() - flushLeaseMs - 1_000, true);
    vi.spyOn(a.broadcaster.store, "deleteGifts").mockRejectedValueOnce(new Error("refused"));
    expect(await a.broadcaster.flushAll(target, Date.now() + 5_000)).toBe(true);
    expect(sendersIn(target.groupId)).toEqual([]);
    expect(await a.broadcaster.store.hasPending(target.roomId)).toBe(false);
  }, 30_000);

  it("keeps flushing for a gift that joined the loop as its read came back empty", async () => {
    const target = await room();
    const a = instance();
    const b = instance();
    const g1 = await bill(a.broadcaster, target, "first");
    expect(await b.broadcaster.flushAll(target, Date.now() + 5_000)).toBe(true);
    const pending = a.broadcaster.store.pending.bind(a.broadcaster.store);
    let second: Promise<string> | undefined;
    vi.spyOn(a.broadcaster.store, "pending").mockImplementationOnce(async (roomId, limit) => {
      const read = await pending(roomId, limit);
      const g2 = await bill(a.broadcaster, target, "second");
      second = a.broadcaster.deliver(target, g2.giftKey);
      return read;
    });
    expect(await a.broadcaster.deliver(target, g1.giftKey)).toBe("queued");
    expect(await second!).toBe("sent");
    expect(sendersIn(target.groupId)).toEqual(["first", "second"]);
  }, 30_000);

  it("sends a quiet room's gift after refusals without waiting for the sweeper", async () => {
    const target = await room();
    const a = instance();
    // Two refusals: the backed-off retry falls after the request has answered.
    await imFault({ action: "send_group_msg", match: target.groupId, code: 60007, times: 2 });
    const gift = await bill(a.broadcaster, target, "lonely");
    expect(await a.broadcaster.deliver(target, gift.giftKey)).toBe("queued");
    // The loop sends, then records the delivery, then deletes the pending gift: wait for all of it.
    await vi.waitFor(async () => {
      expect(sendersIn(target.groupId)).toEqual(["lonely"]);
      expect(await a.broadcaster.store.hasPending(target.roomId)).toBe(false);
    }, { timeout: 8_000, interval: 200 });
  }, 30_000);

  it(`gives up a message IM refused ${maxRefusals} times in a row, so the room's later gifts and its close are not held for good`, async () => {
    const target = await room();
    const a = instance();
    await imFault({ action: "send_group_msg", match: target.groupId, code: 80001, message: "content refused", times: maxRefusals });
    await bill(a.broadcaster, target, "refused");
    for (let attempt = 0; attempt < maxRefusals; attempt++) {
      await a.db.doc.send(new PutCommand({ TableName: a.db.table, Item: { ...flushStateKey(target.roomId), ...(await state(a.db, target.roomId)), nextSendAt: 0 } }));
      await a.broadcaster.flushAll(target, Date.now() + 1_000);
    }
    expect(await a.broadcaster.store.hasPending(target.roomId)).toBe(false);
    const later = await bill(a.broadcaster, target, "later");
    await a.db.doc.send(new PutCommand({ TableName: a.db.table, Item: { ...flushStateKey(target.roomId), ...(await state(a.db, target.roomId)), nextSendAt: 0 } }));
    expect(await a.broadcaster.deliver(target, later.giftKey)).toBe("sent");
    expect(sendersIn(target.groupId)).toEqual(["later"]);
  }, 60_000);

  it("finds every room with leftovers, however many stuck gifts one room has", async () => {
    const a = instance();
    const stuck = { roomId: 990_001 + Math.floor(Math.random() * 1000), groupId: "stuck" };
    const quiet = { roomId: 991_001 + Math.floor(Math.random() * 1000), groupId: "quiet" };
    const hourAgo = Date.now() - 3_600_000;
    const items = Array.from({ length: 600 }, (_, i) => (a.broadcaster.pendingPut(stuck, { giftKey: randomUUID().replaceAll("-", ""), from: `s${i}`, giftId: "rose", count: 1, value: 1, createdAt: hourAgo + i }) as { Put: { Item: Record<string, unknown> } }).Put.Item);
    for (let i = 0; i < items.length; i += 25) await a.db.doc.send(new BatchWriteCommand({ RequestItems: { [a.db.table]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) } }));
    await bill(a.broadcaster, quiet, "q", Date.now() - 10_000);
    const rooms = (await a.broadcaster.store.roomsWithLeftovers(Date.now())).map((r) => r.roomId);
    expect(rooms).toEqual(expect.arrayContaining([stuck.roomId, quiet.roomId]));
  }, 60_000);
});

/** Every clock in the process (the emulator's too) moves 6 minutes on: past IM's 5-minute window for same-Random messages. */
function pastImDuplicateWindow() {
  const realNow = Date.now.bind(Date);
  vi.spyOn(Date, "now").mockImplementation(() => realNow() + 6 * 60_000);
}

/** The room's flush state as stored, so a test can make its next send due now. */
async function state(db: Db, roomId: number) {
  return (await db.doc.send(new GetCommand({ TableName: db.table, Key: flushStateKey(roomId), ConsistentRead: true }))).Item ?? {};
}
