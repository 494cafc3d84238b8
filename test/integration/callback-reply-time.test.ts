import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { api, emulatorUrl, jwtUser } from "../helpers.js";

const setFaults = async (faults: Record<string, unknown>) =>
  expect((await fetch(`${emulatorUrl()}/_control/dynamodb/faults`, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify(faults) })).status).toBe(200);

afterEach(() => setFaults({}));

describe("a callback gift whose refusal cannot be written", () => {
  it("is still answered reject within IM's 2 s", async () => {
    const host = await jwtUser("host");
    const fan = await jwtUser("fan");
    const created = await api("POST", "/v1/rooms", { token: host.token, body: { title: "Slow store" } });
    await api("POST", `/v1/rooms/${created.body.roomId}/live`, { token: host.token });
    const credited = await api("POST", `/v1/admin/wallets/${fan.userId}/credits`, { body: { amount: 100, reason: "test" }, headers: { "x-admin-key": process.env.ONAIR_ADMIN_KEY!, "idempotency-key": randomUUID() } });
    expect(credited.status).toBe(201);
    const msgId = `slow-${randomUUID()}`;
    // The charge commits; the verdict's answer is lost; every later write about this gift is throttled.
    await setFaults({ match: [msgId], sequence: ["none", "lost", ...Array(300).fill("throttle")] });
    const body = {
      GroupId: created.body.groupId,
      From_Account: fan.userId,
      Random: 7,
      MsgId: msgId,
      MsgBody: [{ MsgType: "TIMCustomElem", MsgContent: { Data: JSON.stringify({ type: "gift", giftId: "rose", count: 1 }), Desc: "gift", Ext: "" } }],
    };
    const fired = await fetch(`${emulatorUrl()}/_control/callbacks/im`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ command: "Group.CallbackBeforeSendMsg", body }) });
    const { status, reply } = (await fired.json()) as { status: number; reply: { ErrorCode: number } };
    // The emulator gives the callback IM's 2 s; an answer after that arrives as status 0.
    expect(status).toBe(200);
    expect(reply.ErrorCode).not.toBe(0);
  }, 30_000);
});
