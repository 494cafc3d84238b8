import { describe, expect, it } from "vitest";
import { getConfig } from "../../shared/config/index.js";
import { createTencentDeps, customElem } from "../../shared/tencent/index.js";
import { api, emulatorState, jwtUser } from "../helpers.js";

/** The emulated IM drops a repeated message as IM does: same content and Random within 5 minutes. */
describe("IM de-duplication in the emulator", () => {
  const im = () => createTencentDeps(getConfig()).im;

  it("delivers a retried group message (same content, same Random) once, and a new Random again", async () => {
    const host = await jwtUser("host");
    const { groupId } = (await api("POST", "/v1/rooms", { token: host.token, body: { title: "dedupe" } })).body as { groupId: string };
    const body = customElem({ type: "gift", giftId: "rose", count: 1 }, "gift");
    await im().sendGroupMessage(groupId, body, 4242);
    await im().sendGroupMessage(groupId, body, 4242);
    await im().sendGroupMessage(groupId, body, 4243);
    const messages = (await emulatorState()).groups.find((g) => g.groupId === groupId)!.messages;
    expect(messages.map((m) => m.random)).toEqual([4242, 4243]);
  });

  it("delivers a retried C2C message once", async () => {
    const viewer = await jwtUser("v");
    await im().accountImport(viewer.userId);
    const body = customElem({ type: "cohost_invite" }, "cohost_invite");
    await im().sendC2CMessage(viewer.userId, body, 77);
    await im().sendC2CMessage(viewer.userId, body, 77);
    expect((await emulatorState()).c2cMessages.filter((m) => m.to === viewer.userId)).toHaveLength(1);
  });
});
