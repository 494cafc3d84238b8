import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { Broadcaster } from "../../shared/broadcasts/index.js";
import { getConfig } from "../../shared/config/index.js";
import { createLogger } from "../../shared/log/index.js";
import { createTencentDeps } from "../../shared/tencent/index.js";
import { api, drainOutbox, emulatorState, injectFault, jwtUser, testDb } from "../helpers.js";

/** A closing room's group hears its pending gifts, then room_closed, then it is destroyed. */
async function giftsPendingInALiveRoom() {
  const host = await jwtUser("ch");
  const viewer = await jwtUser("cv");
  const created = await api("POST", "/v1/rooms", { token: host.token, body: { title: "closing" } });
  const { roomId, groupId } = created.body as { roomId: number; groupId: string };
  await api("POST", `/v1/rooms/${roomId}/live`, { token: host.token });
  await api("POST", `/v1/admin/wallets/${viewer.userId}/credits`, { body: { amount: 100, reason: "close" }, headers: { "x-admin-key": process.env.ONAIR_ADMIN_KEY!, "idempotency-key": randomUUID() } });
  // IM refuses the room's messages for now: the gifts stay pending.
  const disarm = await injectFault({ action: "send_group_msg", match: groupId, code: 60007, message: "frequency" });
  const answers = await Promise.all(
    ["rose", "heart", "cake"].map((giftId) => api("POST", "/v1/wallet/gifts", { token: viewer.token, body: { roomId, giftId, count: 2 }, headers: { "idempotency-key": randomUUID() } })),
  );
  expect(answers.map((a) => [a.status, a.body.delivery])).toEqual(Array(3).fill([201, "queued"]));
  return { host, viewer, roomId, groupId, disarm };
}

/** The group's messages as `gifts:<from>/<giftId>x<count>` and `room_closed`, in delivery order. */
async function groupLog(groupId: string) {
  const group = (await emulatorState()).groups.find((g) => g.groupId === groupId)!;
  const lines = group.messages.flatMap((m) => {
    const data = JSON.parse((m.body[0] as { MsgContent: { Data: string } }).MsgContent.Data) as { type: string; gifts?: { from: string; giftId: string; count: number }[] };
    return data.type === "gifts" ? data.gifts!.map((g) => `gifts:${g.giftId}x${g.count}`) : [data.type];
  });
  return { lines, destroyed: group.destroyed };
}

describe("a room closing while gifts are pending", () => {
  it("sends the pending gifts before room_closed, then destroys the group", async () => {
    const { host, roomId, groupId, disarm } = await giftsPendingInALiveRoom();
    await disarm();
    expect((await api("POST", `/v1/rooms/${roomId}/close`, { token: host.token })).status).toBe(200);
    await drainOutbox([roomId]);
    const { lines, destroyed } = await groupLog(groupId);
    expect(lines.slice(0, 3).sort()).toEqual(["gifts:cakex2", "gifts:heartx2", "gifts:rosex2"]);
    expect(lines.slice(3)).toEqual(["room_closed"]);
    expect(destroyed).toBe(true);
  }, 30_000);

  it("holds room_closed while gifts are pending, and the sweeper sends the gifts, then room_closed, then destroys", async () => {
    const { host, roomId, groupId, disarm } = await giftsPendingInALiveRoom();
    const closed = await api("POST", `/v1/rooms/${roomId}/close`, { token: host.token });
    expect([closed.status, closed.body.pendingEffects >= 1]).toEqual([200, true]);
    await drainOutbox([roomId]);
    expect(await groupLog(groupId)).toEqual({ lines: [], destroyed: false });

    await disarm();
    // The sweeper's order: leftover gifts first, then the outbox (the test looks a minute ahead).
    const db = testDb();
    const config = getConfig();
    await new Broadcaster({ db, im: createTencentDeps(config).im, log: createLogger({ service: "test" }), settings: config.broadcasts }).flushLeftovers(Date.now() + 60_000);
    db.doc.destroy();
    await drainOutbox([roomId]);
    const { lines, destroyed } = await groupLog(groupId);
    expect(lines.slice(0, 3).sort()).toEqual(["gifts:cakex2", "gifts:heartx2", "gifts:rosex2"]);
    expect(lines.slice(3)).toEqual(["room_closed"]);
    expect(destroyed).toBe(true);
  }, 30_000);
});
