import { randomBytes, randomUUID } from "node:crypto";
import { GetCommand, UpdateCommand } from "../../shared/db/commands.js";
import { afterEach, describe, expect, it, vi } from "vitest";
import { BillingService, findGift, WalletStore } from "../../shared/billing/index.js";
import { Broadcaster } from "../../shared/broadcasts/index.js";
import { getConfig } from "../../shared/config/index.js";
import type { Db } from "../../shared/db/index.js";
import { createLogger } from "../../shared/log/index.js";
import { closingStamps, RoomService, RoomStore, roomKey } from "../../shared/rooms/index.js";
import { inlineLeaseMs, outboxKey, putOutboxEntry, retryDueEntries } from "../../shared/outbox/index.js";
import { createTencentDeps } from "../../shared/tencent/index.js";
import { api, chargeStands, drainOutbox, emulatorState, emulatorUrl, injectFault, jwtUser, setDynamoDbFaults, testDb, withClientRetries, type DynamoDbFaultSettings } from "../helpers.js";

/**
 * The fault suite: DynamoDB fails under every caller (through the local stack's fault proxy,
 * limited to this suite's own keys), the callers retry as real clients do, then the faults stop
 * and the store must agree with every answer the callers got.
 */
afterEach(async () => {
  await setDynamoDbFaults({});
});

const adminHeaders = (key: string) => ({ "x-admin-key": process.env.ONAIR_ADMIN_KEY!, "idempotency-key": key });

/**
 * A fan sends a gift message through the emulated IM, which runs the before-send callback and
 * reports a delivered message with the after-send callback. `im` shortens IM's 2 s and says what
 * IM does when the answer is late.
 */
/** A fan's client sends a gift message through the emulated IM: its answer, with IM's delivery reports. */
async function clientSends(groupId: string, from: string, giftId: string, im: { timeoutMs?: number; onFailure?: "deliver" | "drop" } = {}) {
  const msgBody = [{ MsgType: "TIMCustomElem", MsgContent: { Data: JSON.stringify({ type: "gift", giftId, count: 1 }), Desc: "gift", Ext: "" } }];
  const response = await fetch(`${emulatorUrl()}/_control/groups/${groupId}/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ from, msgBody, ...im }) });
  return (await response.json()) as Parameters<typeof chargeStands>[0];
}

const clientSendsGift = async (...args: Parameters<typeof clientSends>) => (await clientSends(...args)).delivered;

const mixes: [string, DynamoDbFaultSettings][] = [
  ["throttle only", { throttle: 0.2 }],
  ["lost answers only", { lost: 0.12 }],
  ["throttle, lost answers, cut connections and conflicts", { throttle: 0.2, lost: 0.12, cut: 0.08, conflict: 0.1 }],
];

describe.each(mixes)("under DynamoDB faults: %s", (_name, rates) => {
  it("ends with balances, earnings, ledgers, counters, group messages and the close summary agreeing with every answer", async () => {
    const tag = randomBytes(3).toString("hex");
    const host = await jwtUser(`fh${tag}`);
    const created = await api("POST", "/v1/rooms", { token: host.token, body: { title: "faults" } });
    const { roomId, groupId } = created.body as { roomId: number; groupId: string };
    expect((await api("POST", `/v1/rooms/${roomId}/live`, { token: host.token })).status).toBe(200);
    const fans = await Promise.all(Array.from({ length: 6 }, () => jwtUser(`ff${tag}`)));

    // Faults on for this room's and these users' items only: other test files run alongside.
    await setDynamoDbFaults({ ...rates, match: [tag, `"ROOM#${roomId}"`, `ROOMCTR#${roomId}#`, `ROOMMEM#${roomId}#`, `GIFTER#${roomId}#`, `OUTBOX#${roomId}:`, `BCAST#${roomId}`, groupId] });
    const credited = new Map<string, number>();
    const spent = new Map<string, number>();
    let likesAnswered = 0;
    let likesUnknown = 0;
    let appGiftsSent = 0;
    let heartsDelivered = 0;
    let heartsCharged = 0;
    await Promise.all(
      fans.map(async (fan, index) => {
        const credit = await withClientRetries(() => api("POST", `/v1/admin/wallets/${fan.userId}/credits`, { body: { amount: 25, reason: "faults" }, headers: adminHeaders(`c-${fan.userId}`) }));
        expect(credit.status).toBe(201);
        // A retried credit with the key it already used moves nothing and answers the same.
        const again = await withClientRetries(() => api("POST", `/v1/admin/wallets/${fan.userId}/credits`, { body: { amount: 25, reason: "faults" }, headers: adminHeaders(`c-${fan.userId}`) }));
        expect(again.body).toEqual(credit.body);
        credited.set(fan.userId, 25);
        expect((await withClientRetries(() => api("POST", `/v1/rooms/${roomId}/members`, { token: fan.token }))).status).toBe(200);
        if (index % 2 === 1) expect((await withClientRetries(() => api("DELETE", `/v1/rooms/${roomId}/members/me`, { token: fan.token }))).status).toBe(200);
        const like = await api("POST", `/v1/rooms/${roomId}/likes`, { token: fan.token, body: { count: 3 } });
        if (like.status === 200) likesAnswered += 3;
        else likesUnknown += 3;
        let paid = 0;
        for (let gift = 0; gift < 8; gift++) {
          const sent = await clientSends(groupId, fan.userId, "heart");
          if (sent.delivered) heartsDelivered++;
          if (chargeStands(sent)) {
            paid += findGift("heart")!.price;
            heartsCharged++;
          }
        }
        for (let gift = 0; gift < 3; gift++) {
          const key = randomUUID();
          const answer = await withClientRetries(() => api("POST", "/v1/wallet/gifts", { token: fan.token, body: { roomId, giftId: "rose", count: 2 }, headers: { "idempotency-key": key } }));
          expect([201, 402]).toContain(answer.status);
          if (answer.status === 201) {
            paid += answer.body.amount;
            appGiftsSent++;
          }
        }
        spent.set(fan.userId, paid);
      }),
    );
    const cohost = fans[0]!;
    const invited = await withClientRetries(() => api("POST", `/v1/rooms/${roomId}/cohosts/invitations`, { token: host.token, body: { userId: cohost.userId } }));
    expect(invited.status).toBe(201);
    expect((await withClientRetries(() => api("POST", `/v1/rooms/${roomId}/cohosts`, { token: cohost.token }))).status).toBe(200);
    const kicked = await withClientRetries(() => api("DELETE", `/v1/rooms/${roomId}/cohosts/${cohost.userId}`, { token: host.token }));
    expect([200, 404]).toContain(kicked.status); // 404: a retry found the first kick had landed
    const closed = await withClientRetries(() => api("POST", `/v1/rooms/${roomId}/close`, { token: host.token }));
    expect(closed.status).toBe(200);
    const { injected } = await setDynamoDbFaults({});
    expect(Object.values(injected).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);

    // Faults off: settle whatever was left for the sweeper (gift broadcasts, refunds, messages), then compare.
    const leftoverDb = testDb();
    await new Broadcaster({ db: leftoverDb, im: createTencentDeps(getConfig()).im, log: createLogger({ service: "test" }), settings: getConfig().broadcasts }).flushLeftovers(Date.now() + 60_000);
    leftoverDb.doc.destroy();
    await drainOutbox([roomId]);
    const db = testDb();
    const wallets = new WalletStore(db);
    let income = 0;
    for (const fan of fans) {
      const [current, entries] = await Promise.all([wallets.wallet(fan.userId), wallets.allLedgerEntries(fan.userId)]);
      expect(current.balance).toBe(credited.get(fan.userId)! - spent.get(fan.userId)!);
      expect(entries.filter((e) => e.account === "balance").reduce((sum, e) => sum + e.amount, 0)).toBe(current.balance);
      income += spent.get(fan.userId)!;
    }
    for (const user of [...fans, host]) {
      const audit = await api("GET", `/v1/admin/audit/wallets/${user.userId}`, { headers: { "x-admin-key": process.env.ONAIR_ADMIN_KEY! } });
      expect([audit.status, audit.body.consistent]).toEqual([200, true]);
    }
    const hostWallet = await wallets.wallet(host.userId);
    const hostLedger = await wallets.allLedgerEntries(host.userId);
    expect(hostWallet.earnings).toBe(income);
    expect(hostLedger.filter((e) => e.account === "earnings").reduce((sum, e) => sum + e.amount, 0)).toBe(income);
    db.doc.destroy();

    const summary = (await api("GET", `/v1/rooms/${roomId}/summary`, { token: host.token })).body.summary;
    const room = (await api("GET", `/v1/rooms/${roomId}`, { token: host.token })).body;
    expect(room.counts.giftIncome).toBe(income);
    expect(summary.giftIncome).toBe(income);
    expect(room.counts.totalViewers).toBe(fans.length);
    expect(room.counts.likes).toBeGreaterThanOrEqual(likesAnswered);
    expect(room.counts.likes).toBeLessThanOrEqual(likesAnswered + likesUnknown);
    expect(room.cohosts).toEqual([]);

    const group = (await emulatorState()).groups.find((g) => g.groupId === groupId)!;
    const data = group.messages.flatMap((m) => {
      const content = (m.body[0] as { MsgContent?: { Data?: string } }).MsgContent?.Data;
      return content ? [{ from: m.from, data: JSON.parse(content) as { type: string; giftId?: string; gifts?: { giftId: string; count: number }[] } }] : [];
    });
    const callbackGifts = data.filter((m) => m.data.type === "gift" && m.data.giftId === "heart");
    // Every delivered gift message is in the group; those whose every delivery report was lost were refunded.
    expect(callbackGifts).toHaveLength(heartsDelivered);
    expect(heartsCharged * findGift("heart")!.price + appGiftsSent * 2).toBe(income);
    // Every billed app gift is in exactly one room broadcast, all of them before room_closed.
    const broadcastRoses = data.flatMap((m) => (m.data.type === "gifts" ? m.data.gifts! : [])).filter((g) => g.giftId === "rose");
    expect(broadcastRoses.reduce((sum, g) => sum + g.count, 0)).toBe(appGiftsSent * 2);
    expect(data.filter((m) => m.data.type === "room_closed")).toHaveLength(1);
    expect(data.findLastIndex((m) => m.data.type === "gifts")).toBeLessThan(data.findIndex((m) => m.data.type === "room_closed"));
    expect(group.destroyed).toBe(true);
  }, 90_000);
});

/** A live room and a fan with 25 coins, set up with the faults off. */
async function giftScene() {
  const host = await jwtUser("fh");
  const created = await api("POST", "/v1/rooms", { token: host.token, body: { title: "interleavings" } });
  const { roomId, groupId } = created.body as { roomId: number; groupId: string };
  await api("POST", `/v1/rooms/${roomId}/live`, { token: host.token });
  const fan = await jwtUser("ff");
  expect((await api("POST", `/v1/admin/wallets/${fan.userId}/credits`, { body: { amount: 25, reason: "scene" }, headers: adminHeaders(randomUUID()) })).status).toBe(201);
  return { host, fan, roomId, groupId };
}

async function moneyOf(userId: string) {
  const db = testDb();
  const wallets = new WalletStore(db);
  const [current, entries] = await Promise.all([wallets.wallet(userId), wallets.allLedgerEntries(userId)]);
  db.doc.destroy();
  return { ...current, kinds: entries.map((e) => e.kind).sort() };
}

/** The close's first step as `RoomService.close` writes it (the room and every counter shard), and nothing after. */
async function beginClose(db: Db, roomId: number, reason: string) {
  const closingAt = Date.now();
  const room = { Update: { TableName: db.table, Key: roomKey(roomId), UpdateExpression: "SET closingAt = :at, closingReason = :reason", ExpressionAttributeValues: { ":at": closingAt, ":reason": reason } } };
  expect(await new RoomStore(db).transact([room, ...closingStamps(db.table, roomId, closingAt)])).toBe("ok");
}

/** Fire a before-send callback the way IM would, with this body (no MsgId unless given). */
async function beforeSend(body: Record<string, unknown>) {
  const response = await fetch(`${emulatorUrl()}/_control/callbacks/im`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ command: "Group.CallbackBeforeSendMsg", body }) });
  return ((await response.json()) as { reply: { ErrorCode: number } }).reply.ErrorCode;
}
const giftElem = (giftId: string, count: number) => ({ MsgType: "TIMCustomElem", MsgContent: { Data: JSON.stringify({ type: "gift", giftId, count }), Desc: "gift", Ext: "" } });

describe("ambiguous writes, forced one by one", () => {
  it("IM before-send: the charge commits, its answer is lost and every retry fails; IM is told reject and the charge is refunded once", async () => {
    const { host, fan, roomId, groupId } = await giftScene();
    await setDynamoDbFaults({ operations: ["TransactWriteItems"], match: [`WALLET#${fan.userId}"`], sequence: ["lost", ...Array(60).fill("throttle")] });
    expect(await clientSendsGift(groupId, fan.userId, "heart")).toBe(false);
    await setDynamoDbFaults({});
    // The charge stood with its refund entry beside it; the sweeper's run gives the coins back, a second run nothing more.
    await drainOutbox([roomId]);
    await drainOutbox([roomId]);
    expect(await moneyOf(fan.userId)).toMatchObject({ balance: 25, kinds: ["credit", "gift_refund_sent", "gift_sent"] });
    expect(await moneyOf(host.userId)).toMatchObject({ earnings: 0 });
    expect((await api("GET", `/v1/rooms/${roomId}`, { token: fan.token })).body.counts.giftIncome).toBe(0);
  });

  it("IM before-send: a lost answer whose retry succeeds charges once and lets the message through", async () => {
    const { host, fan, groupId } = await giftScene();
    await setDynamoDbFaults({ operations: ["TransactWriteItems"], match: [`WALLET#${fan.userId}"`], sequence: ["lost"] });
    expect(await clientSendsGift(groupId, fan.userId, "heart")).toBe(true);
    await setDynamoDbFaults({});
    expect(await moneyOf(fan.userId)).toMatchObject({ balance: 20, kinds: ["credit", "gift_sent"] });
    expect(await moneyOf(host.userId)).toMatchObject({ earnings: 5 });
  });

  it("app gift: the charge commits and every retry fails; onair finds the charge and answers 201, and a retry with the key replays it", async () => {
    const { fan, roomId } = await giftScene();
    const key = randomUUID();
    await setDynamoDbFaults({ operations: ["TransactWriteItems"], match: [`WALLET#${fan.userId}"`], sequence: ["cut", ...Array(60).fill("throttle")] });
    const first = await api("POST", "/v1/wallet/gifts", { token: fan.token, body: { roomId, giftId: "heart", count: 1 }, headers: { "idempotency-key": key } });
    await setDynamoDbFaults({});
    expect(first.status).toBe(201);
    const again = await api("POST", "/v1/wallet/gifts", { token: fan.token, body: { roomId, giftId: "heart", count: 1 }, headers: { "idempotency-key": key } });
    expect(again.status).toBe(201);
    expect(again.body.ledgerId).toBe(first.body.ledgerId);
    expect(await moneyOf(fan.userId)).toMatchObject({ balance: 20, kinds: ["credit", "gift_sent"] });
  });

  it("refuses a gift whose callback carries no MsgId, whatever Random the client repeats, and charges nothing", async () => {
    const { fan, groupId } = await giftScene();
    const event = { GroupId: groupId, From_Account: fan.userId, Random: 777, MsgBody: [giftElem("heart", 1)] };
    expect([await beforeSend(event), await beforeSend(event), await beforeSend(event)]).toEqual([10107, 10107, 10107]);
    expect(await moneyOf(fan.userId)).toMatchObject({ balance: 25, kinds: ["credit"] });
  });

  it("refuses a message holding more than one gift, and charges nothing", async () => {
    const { fan, groupId } = await giftScene();
    expect(await beforeSend({ GroupId: groupId, From_Account: fan.userId, Random: 1, MsgBody: [giftElem("rose", 1), giftElem("castle", 99)] })).toBe(10106);
    expect(await moneyOf(fan.userId)).toMatchObject({ balance: 25, kinds: ["credit"] });
  });

  it("refuses a gift that reaches billing after the room closed, in both modes, and charges nothing", async () => {
    const { host, fan, roomId, groupId } = await giftScene();
    expect(await clientSendsGift(groupId, fan.userId, "rose")).toBe(true); // this instance now knows the room
    expect((await api("POST", `/v1/rooms/${roomId}/close`, { token: host.token })).status).toBe(200);
    expect(await beforeSend({ GroupId: groupId, From_Account: fan.userId, Random: 2, MsgId: `closed-${randomUUID()}`, MsgBody: [giftElem("rose", 1)] })).toBe(10103);
    const app = await api("POST", "/v1/wallet/gifts", { token: fan.token, body: { roomId, giftId: "rose", count: 1 }, headers: { "idempotency-key": randomUUID() } });
    expect(app.status).toBe(409);
    expect(await moneyOf(fan.userId)).toMatchObject({ balance: 24, kinds: ["credit", "gift_sent"] });
  });

  it("refuses a gift to a room that is not live yet, in both modes, and charges nothing", async () => {
    const host = await jwtUser("fh");
    const { roomId, groupId } = (await api("POST", "/v1/rooms", { token: host.token, body: { title: "not yet" } })).body as { roomId: number; groupId: string };
    const fan = await jwtUser("ff");
    expect((await api("POST", `/v1/admin/wallets/${fan.userId}/credits`, { body: { amount: 25, reason: "scene" }, headers: adminHeaders(randomUUID()) })).status).toBe(201);
    expect(await beforeSend({ GroupId: groupId, From_Account: fan.userId, Random: 1, MsgId: `created-${randomUUID()}`, MsgBody: [giftElem("rose", 1)] })).toBe(10103);
    const app = await api("POST", "/v1/wallet/gifts", { token: fan.token, body: { roomId, giftId: "rose", count: 1 }, headers: { "idempotency-key": randomUUID() } });
    expect([app.status, app.body.error.code]).toEqual([409, "room_not_live"]);
    expect(await moneyOf(fan.userId)).toMatchObject({ balance: 25, kinds: ["credit"] });
  });

  it("does not let a room whose close began go live", async () => {
    const host = await jwtUser("fh");
    const { roomId } = (await api("POST", "/v1/rooms", { token: host.token, body: { title: "expiring" } })).body as { roomId: number };
    const db = testDb();
    // The close's first step, as the sweeper expiring the room writes it.
    await beginClose(db, roomId, "expired");
    db.doc.destroy();
    const live = await api("POST", `/v1/rooms/${roomId}/live`, { token: host.token });
    expect([live.status, live.body.error.code]).toEqual([409, "room_closed"]);
  });

  it("keeps a gift that lands during a close in its summary, and refuses one after the close began", async () => {
    const { host, fan, roomId } = await giftScene();
    const config = getConfig();
    const db = testDb();
    const answers: number[] = [];
    // A gift lands right after each of the close's reads, before its next write.
    class GiftingStore extends RoomStore {
      override async getRoomWithCounts(...args: Parameters<RoomStore["getRoomWithCounts"]>) {
        const read = await super.getRoomWithCounts(...args);
        answers.push((await api("POST", "/v1/wallet/gifts", { token: fan.token, body: { roomId, giftId: "rose", count: 1 }, headers: { "idempotency-key": randomUUID() } })).status);
        return read;
      }
    }
    const rooms = new RoomService({ store: new GiftingStore(db), tencent: createTencentDeps(config), config, log: createLogger({ service: "test" }) });
    const closed = await rooms.close(roomId, { by: host.userId, reason: "host" });
    db.doc.destroy();
    expect(answers).toEqual([201, 409]);
    expect(closed?.summary.giftIncome).toBe(1);
    expect((await api("GET", `/v1/rooms/${roomId}/summary`, { token: host.token })).body.summary.giftIncome).toBe(1);
    expect((await api("GET", `/v1/rooms/${roomId}`, { token: host.token })).body.counts.giftIncome).toBe(1);
    expect(await moneyOf(fan.userId)).toMatchObject({ balance: 24, kinds: ["credit", "gift_sent"] });
  });

  it("refuses a gift whose room read is stale once the close began: the counter shard it adds to says so, and nothing is charged", async () => {
    const { fan, roomId } = await giftScene();
    const db = testDb();
    const store = new RoomStore(db);
    const beforeClose = await store.getRoom(roomId);
    // The close's first step (room and every shard), then a read that has not caught up with it.
    await beginClose(db, roomId, "host");
    vi.spyOn(store, "getRoom").mockResolvedValue(beforeClose);
    const tencent = createTencentDeps(getConfig());
    const log = createLogger({ service: "test" });
    const billing = new BillingService({ wallets: new WalletStore(db), rooms: store, tencent, log, broadcaster: new Broadcaster({ db, im: tencent.im, log, settings: getConfig().broadcasts }) });
    await expect(billing.giftFromApp(fan.userId, { roomId, giftId: "rose", count: 1 }, randomUUID())).rejects.toMatchObject({ code: "room_not_live" });
    db.doc.destroy();
    expect(await moneyOf(fan.userId)).toMatchObject({ balance: 25, kinds: ["credit"] });
  });

  it("bills a hot room's gifts without the room item: a room item locked by other transactions all along takes gifts as usual", async () => {
    const { fan, roomId } = await giftScene();
    // DynamoDB cancels every transaction that includes the room item, as it does while another holds it.
    await setDynamoDbFaults({ operations: ["TransactWriteItems"], match: [`"ROOM#${roomId}"`], conflict: 1 });
    const answers = [];
    for (let n = 0; n < 3; n++) answers.push((await api("POST", "/v1/wallet/gifts", { token: fan.token, body: { roomId, giftId: "rose", count: 1 }, headers: { "idempotency-key": randomUUID() } })).status);
    await setDynamoDbFaults({});
    expect(answers).toEqual([201, 201, 201]);
    expect(await moneyOf(fan.userId)).toMatchObject({ balance: 22 });
  });

  it("finishes a close that died after its first step: gifts are refused meanwhile, and the host's next heartbeat completes it with the close's reason", async () => {
    const { host, fan, roomId } = await giftScene();
    expect((await api("POST", "/v1/wallet/gifts", { token: fan.token, body: { roomId, giftId: "rose", count: 1 }, headers: { "idempotency-key": randomUUID() } })).status).toBe(201);
    const db = testDb();
    // The close's first step, as it writes it: the room and every counter shard.
    await beginClose(db, roomId, "moderation");
    db.doc.destroy();
    expect((await api("POST", "/v1/wallet/gifts", { token: fan.token, body: { roomId, giftId: "rose", count: 1 }, headers: { "idempotency-key": randomUUID() } })).status).toBe(409);
    const beat = await api("POST", `/v1/rooms/${roomId}/heartbeat`, { token: host.token });
    expect([beat.status, beat.body.status]).toEqual([200, "closed"]);
    const ended = (await api("GET", `/v1/rooms/${roomId}/summary`, { token: host.token })).body;
    expect([ended.reason, ended.summary.giftIncome]).toEqual(["moderation", 1]);
    expect(await moneyOf(fan.userId)).toMatchObject({ balance: 24, kinds: ["credit", "gift_sent"] });
  });

  it("answers an app gift undelivered, not sent, when its group is gone by the time the message goes out", async () => {
    const { fan, roomId, groupId } = await giftScene();
    const disarm = await injectFault({ action: "send_group_msg", match: groupId, code: 10010, message: "the group does not exist or has been dismissed", times: 1 });
    const answer = await api("POST", "/v1/wallet/gifts", { token: fan.token, body: { roomId, giftId: "rose", count: 1 }, headers: { "idempotency-key": randomUUID() } });
    await disarm();
    expect([answer.status, answer.body.delivery]).toEqual([201, "undelivered"]);
  });

  it("bills an Idempotency-Key reused after its record expired as a new gift", async () => {
    const { fan, roomId } = await giftScene();
    const key = randomUUID();
    const send = () => api("POST", "/v1/wallet/gifts", { token: fan.token, body: { roomId, giftId: "rose", count: 1 }, headers: { "idempotency-key": key } });
    const first = await send();
    expect(first.status).toBe(201);
    // Its 24 hours are over (DynamoDB's TTL deletes lazily, so the record may still be there).
    const db = testDb();
    await db.doc.send(new UpdateCommand({ TableName: db.table, Key: { pk: `IDEMP#app:${fan.userId}:${key}`, sk: "IDEMP" }, UpdateExpression: "SET expiresAt = :past", ExpressionAttributeValues: { ":past": Date.now() - 1 } }));
    db.doc.destroy();
    const reused = await send();
    expect(reused.status).toBe(201);
    expect(reused.headers.get("idempotent-replayed")).toBeNull();
    expect(reused.body.ledgerId).not.toBe(first.body.ledgerId);
    expect(await moneyOf(fan.userId)).toMatchObject({ balance: 23 });
    const ledgerDb = testDb();
    const sent = (await new WalletStore(ledgerDb).allLedgerEntries(fan.userId)).filter((e) => e.kind === "gift_sent");
    ledgerDb.doc.destroy();
    expect(new Set(sent.map((e) => e.entryId)).size).toBe(2);
  });
});

describe("a callback gift's charge stands only once IM reports its message delivered", () => {
  it("keeps the charge of a delivered gift when its refund falls due", async () => {
    const { host, fan, roomId, groupId } = await giftScene();
    expect(await clientSendsGift(groupId, fan.userId, "heart")).toBe(true);
    await drainOutbox([roomId]);
    expect(await moneyOf(fan.userId)).toMatchObject({ balance: 20, kinds: ["credit", "gift_sent"] });
    expect(await moneyOf(host.userId)).toMatchObject({ earnings: 5 });
  });

  it("keeps the charge when DynamoDB refuses IM's delivery report: the report times out and IM's retry lands it", async () => {
    const { host, fan, roomId, groupId } = await giftScene();
    const random = 100_000 + Math.floor(Math.random() * 1e9);
    // The charge goes through; every later request for this message is throttled for 2.5 s.
    await setDynamoDbFaults({ match: [`-${random}"`], sequence: ["none"], throttle: 1 });
    const msgBody = [giftElem("heart", 1)];
    const sending = fetch(`${emulatorUrl()}/_control/groups/${groupId}/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ from: fan.userId, msgBody, random }) });
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    await setDynamoDbFaults({});
    const sent = (await (await sending).json()) as { delivered: boolean; afterSend: { status: number }[] };
    expect(sent.delivered).toBe(true);
    // The first report timed out; a retry landed (how many it took depends on the machine's speed).
    const statuses = sent.afterSend.map((reply) => reply.status);
    expect([statuses[0], statuses.at(-1)]).toEqual([0, 200]);
    await drainOutbox([roomId]);
    expect(await moneyOf(fan.userId)).toMatchObject({ balance: 20, kinds: ["credit", "gift_sent"] });
    expect(await moneyOf(host.userId)).toMatchObject({ earnings: 5 });
  });

  it("refunds a gift allowed after IM gave up and dropped the message", async () => {
    const { host, fan, roomId, groupId } = await giftScene();
    // The charge commits 0.8 s in and onair answers "allow"; IM stopped waiting at 0.3 s.
    await setDynamoDbFaults({ operations: ["TransactWriteItems"], match: [`WALLET#${fan.userId}"`], sequence: ["slow"], slowMs: 800 });
    expect(await clientSendsGift(groupId, fan.userId, "heart", { timeoutMs: 300, onFailure: "drop" })).toBe(false);
    expect((await waitForCharge(fan.userId)).kinds).toEqual(["credit", "gift_sent"]);
    await drainOutbox([roomId]);
    expect(await moneyOf(fan.userId)).toMatchObject({ balance: 25, kinds: ["credit", "gift_refund_sent", "gift_sent"] });
    expect(await moneyOf(host.userId)).toMatchObject({ earnings: 0 });
    expect((await api("GET", `/v1/rooms/${roomId}`, { token: fan.token })).body.counts.giftIncome).toBe(0);
  });

  it("charges nothing for a gift IM delivered on its own before the charge committed (IM's default on a late answer)", async () => {
    const { fan, roomId, groupId } = await giftScene();
    await setDynamoDbFaults({ operations: ["TransactWriteItems"], match: [`WALLET#${fan.userId}"`], sequence: ["slow"], slowMs: 800 });
    expect(await clientSendsGift(groupId, fan.userId, "heart", { timeoutMs: 300, onFailure: "deliver" })).toBe(true);
    await waitForCharge(fan.userId);
    await drainOutbox([roomId]);
    // The delivery report came before the charge, so nothing made the charge final: it went back.
    expect(await moneyOf(fan.userId)).toMatchObject({ balance: 25, kinds: ["credit", "gift_refund_sent", "gift_sent"] });
    const group = (await emulatorState()).groups.find((g) => g.groupId === groupId)!;
    expect(group.messages.filter((m) => m.from === fan.userId)).toHaveLength(1);
  });
});

/** The fan's money once a charge made in the background has landed. */
async function waitForCharge(userId: string) {
  for (let waited = 0; waited < 10_000; waited += 100) {
    const money = await moneyOf(userId);
    if (money.kinds.includes("gift_sent")) return money;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no charge for ${userId} within 10 s`);
}

describe("side effects under faults", () => {
  it("keeps the group until it has heard room_closed: a failed notice holds the destroy, the sweeper delivers it, then destroys", async () => {
    const host = await jwtUser("fh");
    const created = await api("POST", "/v1/rooms", { token: host.token, body: { title: "notice" } });
    const { roomId, groupId } = created.body as { roomId: number; groupId: string };
    await api("POST", `/v1/rooms/${roomId}/live`, { token: host.token });
    const disarm = await injectFault({ action: "send_group_msg", match: groupId, code: 80002, times: 1 });
    const closed = await api("POST", `/v1/rooms/${roomId}/close`, { token: host.token });
    await disarm();
    expect(closed.status).toBe(200);
    expect(closed.body.pendingEffects).toBeGreaterThanOrEqual(2);
    const before = (await emulatorState()).groups.find((g) => g.groupId === groupId)!;
    expect(before.destroyed).toBe(false);
    // The sweeper's runs (in any order): the notice first gets through, then the destroy.
    await drainOutbox([roomId]);
    await drainOutbox([roomId]);
    const after = (await emulatorState()).groups.find((g) => g.groupId === groupId)!;
    expect(after.messages.filter((m) => JSON.stringify(m.body).includes("room_closed"))).toHaveLength(1);
    expect(after.destroyed).toBe(true);
  });
});

describe("sweeper leases", () => {
  it("counts an entry's lease from its claim, not from the start of the run that claimed it", async () => {
    const db = testDb();
    const roomId = 900_000_000 + Math.floor(Math.random() * 99_999_999);
    const entry = { entryId: `${roomId}:close:dismissRoom`, roomId, command: { kind: "dismissRoom" as const, roomId } };
    // Due for a while already.
    await putOutboxEntry(db, entry, Date.now() - inlineLeaseMs - 60_000);
    const disarm = await injectFault({ action: "DismissRoom", match: String(roomId), delayMs: 1500, times: 1 });
    // A run that started 25 s ago claims it now.
    const runStartedAt = Date.now() - 25_000;
    const run = retryDueEntries(db, createTencentDeps(getConfig()), createLogger({ service: "test" }), runStartedAt);
    const claimedAfter = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 700));
    const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: outboxKey(entry.entryId), ConsistentRead: true }));
    expect(Item!.nextAttemptAt).toBeGreaterThanOrEqual(claimedAfter + inlineLeaseMs);
    await run;
    await disarm();
    expect((await emulatorState()).dismissedRooms.filter((id) => id === roomId)).toHaveLength(1);
    db.doc.destroy();
  });
});
