import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { aggregate } from "../../shared/broadcasts/index.js";
import { getConfig } from "../../shared/config/index.js";
import { customElem, ImClient, isTencentError, UserSigSigner, type MsgPriority } from "../../shared/tencent/index.js";
import { startEmulator, type Emulator } from "../../scripts/emulator/server.js";

/**
 * IM's frequency limits in the emulator. A private emulator, so its lowered limits touch no
 * other test: 5 messages/s per group and 10 calls/s per REST command.
 */
describe("the emulator enforces IM's limits", () => {
  const config = getConfig();
  let emulator: Emulator;
  let im: ImClient;
  const body = (n: number) => customElem({ type: "n", n }, "n");
  const put = (limits: unknown) =>
    fetch(`${emulator.url}/_control/im/limits`, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify(limits) });

  beforeAll(async () => {
    emulator = await startEmulator({ sdkAppId: config.sdkAppId, userSigKey: config.userSigKey, imAdminUser: config.imAdminUser, apiSecrets: {}, imLimits: { groupMessagesPerSecond: 5, restCallsPerSecond: 10 } });
    im = new ImClient({ baseUrl: emulator.url, sdkAppId: config.sdkAppId, adminUser: config.imAdminUser, signer: new UserSigSigner(config.sdkAppId, config.userSigKey) });
  });
  afterAll(() => emulator.stop());

  it("defaults to the documented figures: 40 messages/s per group, 200 calls/s per command", async () => {
    const defaults = await startEmulator({ sdkAppId: config.sdkAppId, userSigKey: config.userSigKey, imAdminUser: config.imAdminUser, apiSecrets: {} });
    expect(defaults.state.imLimits).toEqual({ groupMessagesPerSecond: 40, restCallsPerSecond: 200 });
    await defaults.stop();
  });

  it("drops messages past the group's rate by priority: High is delivered, Normal and Low are dropped as MsgFreqCtrl", async () => {
    await im.createAvChatRoom("limits_priority", "limits", config.imAdminUser);
    const outcomes: string[] = [];
    const sendOne = async (n: number, priority: MsgPriority) => {
      try {
        await im.sendGroupMessage("limits_priority", body(n), n, undefined, priority);
        outcomes.push(`${n}:sent`);
      } catch (error) {
        outcomes.push(`${n}:${isTencentError(error) ? error.code : String(error)}`);
      }
    };
    for (let n = 1; n <= 5; n++) await sendOne(n, "Normal");
    await sendOne(6, "Normal");
    await sendOne(7, "Low");
    await sendOne(8, "High");
    expect(outcomes).toEqual(["1:sent", "2:sent", "3:sent", "4:sent", "5:sent", "6:MsgFreqCtrl", "7:MsgFreqCtrl", "8:sent"]);
    const group = emulator.state.groups.find((g) => g.groupId === "limits_priority")!;
    expect(group.messages.map((m) => [m.random, m.priority])).toEqual([[1, "Normal"], [2, "Normal"], [3, "Normal"], [4, "Normal"], [5, "Normal"], [8, "High"]]);
    expect(group.dropped.map((m) => ({ random: m.random, priority: m.priority, reason: m.reason }))).toEqual([
      { random: 6, priority: "Normal", reason: "MsgFreqCtrl" },
      { random: 7, priority: "Low", reason: "MsgFreqCtrl" },
    ]);
    // /_state shows the drops with their reason.
    const state = (await (await fetch(`${emulator.url}/_state`)).json()) as { groups: { groupId: string; dropped: { reason: string }[] }[] };
    expect(state.groups.find((g) => g.groupId === "limits_priority")!.dropped).toHaveLength(2);
  });

  it("refuses a message over 12 KB with 80002, and takes the largest gift broadcast onair builds", async () => {
    // A second after the burst above, so the sends below are within the lowered rates.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await im.createAvChatRoom("limits_size", "limits", config.imAdminUser);
    const refused = await im.sendGroupMessage("limits_size", customElem({ type: "n", text: "x".repeat(12 * 1024) }, "n"), 1).catch((error: unknown) => error);
    expect(isTencentError(refused) && refused.code).toBe("80002");
    // Distinct senders, with the shortest ids (the most escaped quotes per byte) and the longest.
    for (const [random, from] of [[2, (n: number) => `s${n}`], [3, (n: number) => `${n}`.padStart(32, "u")]] as const) {
      const pending = Array.from({ length: 1000 }, (_, n) => ({ giftKey: `k${n}`, from: from(n), giftId: "rose", count: 1, value: 1, createdAt: n }));
      const { message, taken } = aggregate(7, pending);
      expect(taken.length).toBeGreaterThan(100);
      await im.sendGroupMessage("limits_size", customElem({ ...message }, "gifts"), random);
    }
    expect(emulator.state.groups.find((g) => g.groupId === "limits_size")!.messages.map((m) => m.random)).toEqual([2, 3]);
  });

  it("refuses a REST command past its per-app rate with 60007 in IM's error body, and serves it again a second later", async () => {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const url = (command: string) => {
      const query = new URLSearchParams({ sdkappid: String(config.sdkAppId), identifier: config.imAdminUser, usersig: new UserSigSigner(config.sdkAppId, config.userSigKey).issue(config.imAdminUser, 600).userSig, random: "1", contenttype: "json" });
      return `${emulator.url}/v4/im_open_login_svc/${command}?${query}`;
    };
    const replies = [];
    for (let i = 0; i < 11; i++) {
      const response = await fetch(url("account_import"), { method: "POST", body: JSON.stringify({ UserID: `limit_${i}` }) });
      replies.push({ status: response.status, body: (await response.json()) as Record<string, unknown> });
    }
    expect(replies.slice(0, 10).every((r) => r.body.ErrorCode === 0)).toBe(true);
    expect(replies[10]).toEqual({ status: 200, body: { ActionStatus: "FAIL", ErrorCode: 60007, ErrorInfo: expect.stringContaining("10 per second") } });
    expect(emulator.state.accounts).not.toContain("limit_10");
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await expect(im.accountImport("limit_10")).resolves.toMatchObject({ ErrorCode: 0 });
  });

  it("takes new limits through PUT /_control/im/limits and refuses unknown keys", async () => {
    expect(await (await put({ groupMessagesPerSecond: 7 })).json()).toEqual({ groupMessagesPerSecond: 7, restCallsPerSecond: 10 });
    const refused = await put({ groupMessagesPerSecond: 7, perRoom: 3 });
    expect(refused.status).toBe(400);
    expect(await put({ restCallsPerSecond: -1 }).then((r) => r.status)).toBe(400);
    expect(emulator.state.imLimits).toEqual({ groupMessagesPerSecond: 7, restCallsPerSecond: 10 });
    await put({ groupMessagesPerSecond: 5 });
  });
});
