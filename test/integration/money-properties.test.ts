import { randomUUID } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BillingService, WalletStore } from "../../shared/billing/index.js";
import { Broadcaster } from "../../shared/broadcasts/index.js";
import { getConfig } from "../../shared/config/index.js";
import { createDb } from "../../shared/db/index.js";
import { createLogger } from "../../shared/log/index.js";
import { RoomStore } from "../../shared/rooms/index.js";
import { createTencentDeps } from "../../shared/tencent/index.js";
import { createImCallbackApp } from "../../functions/im-callback/app.js";
import { signImCallback } from "../../shared/signatures/index.js";
import { api, jwtUser } from "../helpers.js";

const config = getConfig();
const db = createDb(config);
const wallets = new WalletStore(db);
const log = createLogger({ service: "test" });
const tencent = createTencentDeps(config);
const billing = new BillingService({ wallets, rooms: new RoomStore(db), tencent, log, broadcaster: new Broadcaster({ db, im: tencent.im, log, settings: config.broadcasts }) });

describe("money properties (DynamoDB Local)", () => {
  it("keeps every ledger equal to its balances and no balance below zero, for any interleaving of gifts and credits", async () => {
    const host = await jwtUser("host");
    const created = await api("POST", "/v1/rooms", { token: host.token, body: { title: "property" } });
    const roomId = created.body.roomId as number;
    await api("POST", `/v1/rooms/${roomId}/live`, { token: host.token });
    const senders = await Promise.all([jwtUser(), jwtUser(), jwtUser()]);
    const operation = fc.oneof(
      fc.record({ kind: fc.constant("credit" as const), who: fc.nat(2), amount: fc.integer({ min: 1, max: 30 }) }),
      fc.record({ kind: fc.constant("gift" as const), who: fc.nat(2), giftId: fc.constantFrom("rose", "heart", "cake"), count: fc.integer({ min: 1, max: 3 }) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { minLength: 1, maxLength: 12 }), async (operations) => {
        // Run the whole batch concurrently: the interleaving is DynamoDB's.
        await Promise.all(
          operations.map(async (op) => {
            const sender = senders[op.who]!;
            if (op.kind === "credit") {
              await wallets.credit(sender.userId, op.amount, "property", {
                scope: `admin:${randomUUID()}`,
                fingerprint: "p",
                status: "completed",
                response: { status: 201, body: {} },
                createdAt: Date.now(),
                expiresAt: Date.now() + 60_000,
              });
            } else {
              await billing.giftFromApp(sender.userId, { roomId, giftId: op.giftId, count: op.count }, randomUUID()).catch((error: { code?: string }) => {
                if (error.code !== "insufficient_balance") throw error;
              });
            }
          }),
        );
        for (const user of [...senders, host]) {
          const [entries, current] = await Promise.all([wallets.allLedgerEntries(user.userId), wallets.wallet(user.userId)]);
          const sum = (account: string) => entries.filter((e) => e.account === account).reduce((total, e) => total + e.amount, 0);
          expect(current.balance).toBeGreaterThanOrEqual(0);
          expect(sum("balance")).toBe(current.balance);
          expect(sum("earnings")).toBe(current.earnings);
        }
        // Every coin that left a sender arrived at the host.
        const sent = (await Promise.all(senders.map((s) => wallets.allLedgerEntries(s.userId)))).flat().filter((e) => e.kind === "gift_sent").reduce((t, e) => t - e.amount, 0);
        expect((await wallets.wallet(host.userId)).earnings).toBe(sent);
      }),
      { numRuns: 15 },
    );
  }, 120_000);
});

describe("IM callback fuzzing", () => {
  it("never answers 500, whatever the body", async () => {
    const app = createImCallbackApp({ db, config, tencent: createTencentDeps(config) });
    const commands = ["Group.CallbackBeforeSendMsg", "Group.CallbackAfterNewMemberJoin", "Group.CallbackAfterMemberExit", "State.StateChange", "Group.CallbackOnMemberStateChange", "Other"];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...commands), fc.oneof(fc.json(), fc.string(), fc.jsonValue().map((v) => JSON.stringify({ GroupId: "room_100001", MsgBody: v, NewMemberList: v, Info: v }))), async (command, body) => {
        const signature = signImCallback(config.imCallbackToken, Math.floor(Date.now() / 1000));
        const query = new URLSearchParams({ SdkAppid: String(config.sdkAppId), CallbackCommand: command, ...signature });
        const response = await app.request(`/v1/callbacks/im?${query}`, { method: "POST", headers: { "content-type": "application/json" }, body });
        expect(response.status).toBeLessThan(500);
      }),
      { numRuns: 150 },
    );
  }, 60_000);
});
