/**
 * Gifts: throughput of the IM before-send callback on the local stack (signed HTTP callbacks
 * to /v1/callbacks/im, billing in DynamoDB Local) at 1, 8 and 32 concurrent senders, and the
 * DynamoDB requests one gift costs, counted by a middleware on the client; then gifts/s and p99
 * at 8 senders with DynamoDB faults on (BENCH_DYNAMODB_FAULTS, default the mix) as a
 * ratio to the same run with them off.
 *
 *   npm run bench -- gifts
 *
 * Load generator and stack share this process and the machine's 2 cores; read the figures as
 * ratios between concurrency levels, not as production capacity.
 */
import { randomUUID } from "node:crypto";
import { createImCallbackApp } from "../../functions/im-callback/app.js";
import { WalletStore } from "../../shared/billing/index.js";
import { getConfig } from "../../shared/config/index.js";
import { createDb } from "../../shared/db/index.js";
import { signImCallback } from "../../shared/signatures/index.js";
import { createTencentDeps } from "../../shared/tencent/index.js";
import { noFaults, parseFaults } from "../local/dynamodb-faults.js";
import { countRequests, formatCounts, startBenchStack } from "./support.js";

const secondsPerLevel = 5;

export async function benchGifts(): Promise<void> {
  const { stack, token } = await startBenchStack();
  try {
    const config = getConfig();
    const db = createDb(config);
    const host = `bench_host_${Date.now()}`;
    const hostToken = await token(host);
    const created = (await (await fetch(`${stack.url}/v1/rooms`, { method: "POST", headers: { authorization: `Bearer ${hostToken}`, "content-type": "application/json" }, body: JSON.stringify({ title: "bench" }) })).json()) as { roomId: number; groupId: string };
    await fetch(`${stack.url}/v1/rooms/${created.roomId}/live`, { method: "POST", headers: { authorization: `Bearer ${hostToken}` } });
    const wallets = new WalletStore(db);
    const senders = Array.from({ length: 32 }, (_, i) => `bench_sender_${i}_${Date.now()}`);
    for (const sender of senders) {
      await wallets.credit(sender, 10_000_000, "bench", { scope: `admin:${randomUUID()}`, fingerprint: "b", status: "completed", response: { status: 201, body: {} }, createdAt: Date.now(), expiresAt: Date.now() + 3_600_000 });
    }
    /** IM's before-send callback for a gift message, or (`report`) its after-send delivery report. */
    const callback = (sender: string, app?: ReturnType<typeof createImCallbackApp>, msgId = `${sender}-${randomUUID()}`, report = false) => {
      const command = report ? "Group.CallbackAfterSendMsg" : "Group.CallbackBeforeSendMsg";
      const query = new URLSearchParams({ SdkAppid: String(config.sdkAppId), CallbackCommand: command, contenttype: "json", ...signImCallback(config.imCallbackToken, Math.floor(Date.now() / 1000)) });
      const random = Math.floor(Math.random() * 2 ** 32);
      const init = {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          CallbackCommand: command,
          GroupId: created.groupId,
          Type: "AVChatRoom",
          From_Account: sender,
          Random: random,
          MsgId: msgId,
          MsgBody: [{ MsgType: "TIMCustomElem", MsgContent: { Data: '{"type":"gift","giftId":"rose","count":1}', Desc: "gift", Ext: "" } }],
        }),
      };
      return app ? app.request(`/v1/callbacks/im?${query}`, init) : fetch(`${stack.url}/v1/callbacks/im?${query}`, init);
    };

    // Requests per gift, counted in-process.
    const countedDb = createDb(config);
    const requests = countRequests(countedDb);
    const app = createImCallbackApp({ db: countedDb, config, tencent: createTencentDeps(config) });
    await callback(senders[0]!, app);
    requests.reset();
    const msgId = `bench-${randomUUID()}`;
    const reply = (await (await callback(senders[0]!, app, msgId)).json()) as { ErrorCode: number };
    if (reply.ErrorCode !== 0) throw new Error(`gift rejected: ${JSON.stringify(reply)}`);
    console.log(`DynamoDB requests per billed gift (callback mode): ${formatCounts(requests.counts)}`);
    requests.reset();
    await callback(senders[0]!, app, msgId, true);
    console.log(`DynamoDB requests per delivery report (after-send, which makes the charge final): ${formatCounts(requests.counts)}`);

    const measure = async (concurrency: number) => {
      const latencies: number[] = [];
      let rejected = 0;
      const deadline = performance.now() + secondsPerLevel * 1000;
      const started = performance.now();
      await Promise.all(
        senders.slice(0, concurrency).map(async (sender) => {
          while (performance.now() < deadline) {
            const t0 = performance.now();
            const answer = (await (await callback(sender)).json()) as { ErrorCode: number };
            latencies.push(performance.now() - t0);
            if (answer.ErrorCode !== 0) rejected++;
          }
        }),
      );
      const elapsed = (performance.now() - started) / 1000;
      latencies.sort((a, b) => a - b);
      const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
      return { giftsPerSecond: (latencies.length - rejected) / elapsed, median: at(0.5), p99: at(0.99), rejected };
    };

    console.log(`\nbefore-send callback throughput on the local stack (${secondsPerLevel} s per level, every gift billed)`);
    console.log("senders   gifts/s   median ms   p99 ms   rejected");
    for (const concurrency of [1, 8, 32]) {
      const level = await measure(concurrency);
      console.log(`${String(concurrency).padStart(7)} ${level.giftsPerSecond.toFixed(0).padStart(9)} ${level.median.toFixed(1).padStart(11)} ${level.p99.toFixed(1).padStart(8)} ${String(level.rejected).padStart(10)}`);
    }

    // The same load with DynamoDB failing (the stack's fault proxy; both runs go through it).
    const mix = process.env.BENCH_DYNAMODB_FAULTS ?? "throttle=0.2,lost=0.12,cut=0.08,conflict=0.1";
    const off = await measure(8);
    stack.faultProxy!.setFaults(parseFaults(mix));
    const on = await measure(8);
    stack.faultProxy!.setFaults(noFaults);
    console.log(`\n8 senders with DynamoDB faults ${mix}, against none (${secondsPerLevel} s each; "rejected" gifts were refused to IM, and a charge without IM's delivery report goes back)`);
    console.log("faults   gifts/s   p99 ms   rejected");
    for (const [name, level] of [["off", off], ["on", on]] as const) console.log(`${name.padEnd(6)} ${level.giftsPerSecond.toFixed(0).padStart(9)} ${level.p99.toFixed(1).padStart(8)} ${String(level.rejected).padStart(10)}`);
    console.log(`ratio on/off: gifts/s ×${(on.giftsPerSecond / off.giftsPerSecond).toFixed(2)}, p99 ×${(on.p99 / off.p99).toFixed(2)}`);
    db.doc.destroy();
    countedDb.doc.destroy();
  } finally {
    await stack.stop();
  }
}
