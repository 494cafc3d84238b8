import { randomUUID } from "node:crypto";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { findGift, WalletStore } from "../../shared/billing/index.js";
import { api, chargeStands, drainOutbox, emulatorState, emulatorUrl, jwtUser, setDynamoDbFaults, testDb, withClientRetries } from "../helpers.js";

/**
 * Random fault schedules against the money invariants: fast-check draws which of a fan's
 * DynamoDB requests fail and how (the fault proxy's `sequence`), and a mix of gifts in both
 * modes. Once the faults stop and the outbox has run, the fan has paid exactly for the app gifts
 * answered 201 and the callback gifts IM delivered and reported (onair took the report), and every ledger sums to its balances.
 */
const faultKind = fc.constantFrom("none", "throttle", "lost", "cut", "conflict");

afterEach(async () => {
  await setDynamoDbFaults({});
});

describe("random DynamoDB fault schedules", () => {
  it("charge a fan exactly for the app gifts answered 201 and the callback gifts IM delivered and reported", async () => {
    const host = await jwtUser("sh");
    const db = testDb();
    const wallets = new WalletStore(db);
    await fc.assert(
      fc.asyncProperty(fc.array(faultKind, { maxLength: 14 }), fc.array(fc.record({ mode: fc.constantFrom("app", "callback"), giftId: fc.constantFrom("rose", "heart") }), { minLength: 1, maxLength: 5 }), async (schedule, gifts) => {
        const created = await api("POST", "/v1/rooms", { token: host.token, body: { title: "schedules" } });
        const { roomId, groupId } = created.body as { roomId: number; groupId: string };
        expect((await api("POST", `/v1/rooms/${roomId}/live`, { token: host.token })).status).toBe(200);
        const fan = await jwtUser("sf");
        expect((await api("POST", `/v1/admin/wallets/${fan.userId}/credits`, { body: { amount: 40, reason: "schedule" }, headers: { "x-admin-key": process.env.ONAIR_ADMIN_KEY!, "idempotency-key": randomUUID() } })).status).toBe(201);
        // The fan's wallet, ledger and records, and this room's items (its group id is in every callback record).
        await setDynamoDbFaults({ match: [fan.userId, groupId, `"ROOM#${roomId}"`, `ROOMCTR#${roomId}#`], sequence: schedule });
        let paid = 0;
        let delivered = 0;
        for (const gift of gifts) {
          const price = findGift(gift.giftId)!.price;
          if (gift.mode === "app") {
            const key = randomUUID();
            const answer = await withClientRetries(() => api("POST", "/v1/wallet/gifts", { token: fan.token, body: { roomId, giftId: gift.giftId, count: 1 }, headers: { "idempotency-key": key } }));
            expect([201, 402]).toContain(answer.status);
            if (answer.status === 201) paid += price;
          } else {
            const msgBody = [{ MsgType: "TIMCustomElem", MsgContent: { Data: JSON.stringify({ type: "gift", giftId: gift.giftId, count: 1 }), Desc: "gift", Ext: "" } }];
            const sent = await fetch(`${emulatorUrl()}/_control/groups/${groupId}/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ from: fan.userId, msgBody }) });
            const answer = (await sent.json()) as Parameters<typeof chargeStands>[0];
            if (answer.delivered) delivered++;
            if (chargeStands(answer)) paid += price;
          }
        }
        await setDynamoDbFaults({});
        await drainOutbox([roomId]);
        const [current, entries] = await Promise.all([wallets.wallet(fan.userId), wallets.allLedgerEntries(fan.userId)]);
        expect(current.balance).toBe(40 - paid);
        expect(entries.filter((e) => e.account === "balance").reduce((sum, e) => sum + e.amount, 0)).toBe(current.balance);
        const group = (await emulatorState()).groups.find((g) => g.groupId === groupId)!;
        expect(group.messages.filter((m) => m.from === fan.userId)).toHaveLength(delivered);
        expect((await api("GET", `/v1/rooms/${roomId}`, { token: fan.token })).body.counts.giftIncome).toBe(paid);
      }),
      { numRuns: 8 },
    );
    const [hostWallet, hostEntries] = await Promise.all([wallets.wallet(host.userId), wallets.allLedgerEntries(host.userId)]);
    expect(hostEntries.filter((e) => e.account === "earnings").reduce((sum, e) => sum + e.amount, 0)).toBe(hostWallet.earnings);
    db.doc.destroy();
  }, 120_000);
});
