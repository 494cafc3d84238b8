/**
 * `npm run demo`: one whole show on a local stack of its own, through the typed client. A host
 * goes live and heartbeats, 50 viewers join, some chat through the emulated IM, fans send gifts
 * both ways (billed by the app's call and by IM's before-send callback), one of each refused for
 * want of coins, a viewer co-hosts for a while, likes pour in, the host closes, and the replay
 * appears. Every step checks what it got; any surprise ends the run with exit code 1.
 */
import { randomBytes } from "node:crypto";
import { SignJWT } from "jose";
import { createOnairClient, OnairError, unwrap, type OnairClient } from "../client/src/index.js";
import { startStack, type Stack } from "./local/stack.js";

const viewerCount = 50;
const started = performance.now();
const tty = process.stdout.isTTY === true;

const clock = () => `[${((performance.now() - started) / 1000).toFixed(1).padStart(5)}s]`;
const line = (mark: string, text: string) => console.log(`${clock()} ${mark} ${text}`);

class DemoFailure extends Error {}
function check(condition: unknown, what: string): asserts condition {
  if (!condition) throw new DemoFailure(what);
}

/** Run one step of the show; its line says what happened, or why the show stops. */
async function step<T>(title: string, run: () => Promise<T>, detail: (result: T) => string = () => ""): Promise<T> {
  try {
    const result = await run();
    const said = detail(result);
    line("✓", said ? `${title} — ${said}` : title);
    return result;
  } catch (error) {
    line("✗", `${title}: ${error instanceof OnairError ? `${error.status} ${error.code}: ${error.message}` : (error as Error).message}`);
    throw error;
  }
}

function progress(label: string, done: number, total: number) {
  const width = 30;
  const filled = Math.round((done / total) * width);
  const bar = `${clock()}   ${label} [${"█".repeat(filled)}${"░".repeat(width - filled)}] ${String(done).padStart(String(total).length)}/${total}`;
  // On a terminal the bar fills in place; in a log, a line at each quarter.
  if (tty) process.stdout.write(`\r${bar}${done === total ? "\n" : ""}`);
  else if (done === total || done % Math.ceil(total / 4) === 0) console.log(bar);
}

/** A user id no earlier run took (DynamoDB Local may be persisted). */
const idOf = (name: string) => `${name}_${randomBytes(3).toString("hex")}`;

async function show(stack: Stack, jwtSecret: Uint8Array) {
  const client = (token?: string) => createOnairClient({ baseUrl: stack.url, token, timeoutMs: 15_000 });
  const admin = createOnairClient({ baseUrl: stack.url, adminKey: process.env.ONAIR_ADMIN_KEY });
  /** A user of the app's identity provider: its JWT is the bearer token (README, app identity provider mode). */
  const appUser = async (userId: string) => ({ userId, onair: client(await new SignJWT({}).setProtectedHeader({ alg: "HS256" }).setSubject(userId).setIssuedAt().setExpirationTime("1h").sign(jwtSecret)) });
  /** A client app sends a group message; the emulated IM runs onair's before-send callback first. */
  const imSend = async (groupId: string, from: string, element: object) => {
    const response = await fetch(`${stack.emulatorUrl}/_control/groups/${encodeURIComponent(groupId)}/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ from, msgBody: [element] }),
    });
    return (await response.json()) as { delivered: boolean; replies: { status: number; reply: { ErrorCode?: number; ErrorInfo?: string } }[] };
  };
  const giftElement = (giftId: string, count: number) => ({ MsgType: "TIMCustomElem", MsgContent: { Data: JSON.stringify({ type: "gift", giftId, count }), Desc: "gift", Ext: "" } });

  line("▶", "the show");
  const hostId = idOf("alice");
  const host = client();
  await step("host registers and logs in", async () => {
    await unwrap(host.api.POST("/v1/accounts", { body: { userId: hostId, password: "demo password" } }));
    host.setToken((await unwrap(host.api.POST("/v1/sessions", { body: { userId: hostId, password: "demo password" } }))).token);
  }, () => hostId);
  await step("host gets a UserSig for the IM and TRTC SDKs", () => unwrap(host.api.POST("/v1/usersig")), (sig) => `sdkAppId ${sig.sdkAppId}, expires ${sig.expiresAt}`);
  const room = await step("host creates a room", () => unwrap(host.api.POST("/v1/rooms", { body: { title: "Friday night live" } })), (r) => `room ${r.roomId}, IM group ${r.groupId}`);
  const roomId = room.roomId;
  const path = { params: { path: { roomId } } };
  await step("host enters TRTC and reports the room live", () => unwrap(host.api.POST("/v1/rooms/{roomId}/live", path)), (r) => `status ${r.status}`);

  let heartbeats = 0;
  let heartbeatError: unknown;
  const beat = async () => {
    const answer = await unwrap(host.api.POST("/v1/rooms/{roomId}/heartbeat", path));
    check(answer.status === "live", `heartbeat says the room is ${answer.status}`);
    heartbeats++;
  };
  await step("host heartbeats", beat, () => "every 2 s from now on");
  const heartbeat = setInterval(() => beat().catch((error: unknown) => (heartbeatError ??= error)), 2_000);

  try {
    const viewers = await Promise.all(Array.from({ length: viewerCount }, (_, i) => appUser(idOf(`viewer${String(i + 1).padStart(2, "0")}`))));
    await step(`${viewerCount} viewers join`, async () => {
      let joined = 0;
      progress("joining", 0, viewerCount);
      const queue = [...viewers];
      // Ten at a time, as a crowd arrives.
      await Promise.all(
        Array.from({ length: 10 }, async () => {
          for (let viewer = queue.shift(); viewer; viewer = queue.shift()) {
            const answer = await unwrap(viewer.onair.api.POST("/v1/rooms/{roomId}/members", path));
            check(answer.joined, `${viewer.userId} did not join`);
            progress("joining", ++joined, viewerCount);
          }
        }),
      );
      const view = await unwrap(host.api.GET("/v1/rooms/{roomId}", path));
      check(view.counts.online === viewerCount, `the room counts ${view.counts.online} online, not ${viewerCount}`);
      return view;
    }, (view) => `online ${view.counts.online}, heat ${view.counts.heat}`);

    await step("viewers chat in the group (through IM's before-send callback)", async () => {
      const lines = ["hi all!", "first time here", "love this song", "hello from Shenzhen", "👋"];
      for (const [i, text] of lines.entries()) {
        let sent = await imSend(room.groupId, viewers[i]!.userId, { MsgType: "TIMTextElem", MsgContent: { Text: text } });
        // IM drops a message whose callback it got no answer to within 2 s (the policy the README
        // asks for); a chat client sends it again. A refusal onair did answer is not retried.
        for (let retry = 0; retry < 2 && !sent.delivered && sent.replies[0]?.reply.ErrorCode === undefined; retry++) {
          line(" ", `  IM had no answer in time for "${text}"; the client sends it again`);
          sent = await imSend(room.groupId, viewers[i]!.userId, { MsgType: "TIMTextElem", MsgContent: { Text: text } });
        }
        check(sent.delivered, `IM did not deliver "${text}": ${JSON.stringify(sent.replies[0])}`);
      }
      return lines.length;
    }, (count) => `${count} messages delivered`);

    const [fanA, fanB, fanC, broke] = [viewers[0]!, viewers[1]!, viewers[2]!, viewers[3]!];
    await step("an operator tops up three fans", async () => {
      for (const fan of [fanA, fanB, fanC]) await admin.creditWallet(fan.userId, { amount: 100, reason: "demo coins" });
    }, () => "100 coins each");

    const sendGift = async (fan: { onair: OnairClient }, giftId: string, count: number) => (await fan.onair.sendGift({ roomId, giftId, count })).gift;
    await step(`mode b: ${fanA.userId} sends 3 roses through the API`, () => sendGift(fanA, "rose", 3), (gift) => `${gift.amount} coins, delivery ${gift.delivery}`);
    await step(`mode b: ${fanB.userId} sends 2 hearts through the API`, () => sendGift(fanB, "heart", 2), (gift) => `${gift.amount} coins, delivery ${gift.delivery}`);
    await step(`mode b: ${broke.userId}, with no coins, tries a rocket`, async () => {
      const refused = await sendGift(broke, "rocket", 1).then(
        () => undefined,
        (error: unknown) => error,
      );
      check(refused instanceof OnairError && refused.code === "insufficient_balance", "a gift with no coins was not refused with insufficient_balance");
      return refused;
    }, (error) => `refused: ${error.status} ${error.code}`);
    await step(`mode a: ${fanC.userId} sends a cake as an IM message`, async () => {
      const sent = await imSend(room.groupId, fanC.userId, giftElement("cake", 1));
      check(sent.delivered && sent.replies[0]?.reply.ErrorCode === 0, `the cake was not billed and delivered: ${JSON.stringify(sent.replies[0]?.reply)}`);
      return sent;
    }, () => "billed in the callback, delivered");
    await step(`mode a: ${broke.userId} tries a castle as an IM message`, async () => {
      const sent = await imSend(room.groupId, broke.userId, giftElement("castle", 1));
      check(!sent.delivered && sent.replies[0]?.reply.ErrorCode === 10102, `the castle was not refused for want of coins: ${JSON.stringify(sent.replies[0]?.reply)}`);
      return sent.replies[0]!.reply;
    }, (reply) => `refused: ErrorCode ${reply.ErrorCode} (${reply.ErrorInfo}), not delivered`);

    await step(`host invites ${fanA.userId} to co-host`, () => unwrap(host.api.POST("/v1/rooms/{roomId}/cohosts/invitations", { ...path, body: { userId: fanA.userId } })), (invite) => `invitation until ${invite.expiresAt}`);
    await step(`${fanA.userId} goes on mic`, async () => {
      const onMic = await unwrap(fanA.onair.api.POST("/v1/rooms/{roomId}/cohosts", path));
      const view = await unwrap(host.api.GET("/v1/rooms/{roomId}", path));
      check(view.cohosts.some((cohost) => cohost.userId === fanA.userId), "the room does not list the co-host");
      return onMic;
    }, (onMic) => `TRTC ticket as ${onMic.ticket.role} (privileges ${onMic.ticket.privilegeMap})`);
    await step(`${fanA.userId} comes off mic`, async () => {
      const off = await unwrap(fanA.onair.api.DELETE("/v1/rooms/{roomId}/cohosts/{userId}", { params: { path: { roomId, userId: fanA.userId } } }));
      check(!off.onMic, "still on mic");
      return off;
    }, () => "the group was told");

    await step("viewers like the show", async () => {
      await Promise.all(viewers.slice(0, 10).map((viewer) => unwrap(viewer.onair.api.POST("/v1/rooms/{roomId}/likes", { ...path, body: { count: 5 } }))));
    }, () => "10 viewers × 5 likes");
    await step("the leaderboard", () => unwrap(host.api.GET("/v1/rooms/{roomId}/leaderboard", { params: { path: { roomId }, query: { limit: 3 } } })), (board) =>
      board.items.map((entry) => `#${entry.rank} ${entry.userId} ${entry.coins}`).join(", "),
    );
  } finally {
    clearInterval(heartbeat);
  }
  if (heartbeatError) throw heartbeatError;

  const closed = await step("host ends the show", () => unwrap(host.api.POST("/v1/rooms/{roomId}/close", path)), (c) => `closed (${c.reason}), ${c.pendingEffects} side effects left for the sweeper`);
  const { summary } = closed;
  // 3 roses (1) + 2 hearts (5) + 1 cake (20); the refused gifts cost nothing.
  check(summary.giftIncome === 33, `gift income is ${summary.giftIncome}, not 33`);
  check(summary.likes === 50, `likes are ${summary.likes}, not 50`);
  check(summary.totalViewers === viewerCount, `total viewers are ${summary.totalViewers}, not ${viewerCount}`);
  const hostWallet = await unwrap(host.api.GET("/v1/wallet"));
  check(hostWallet.earnings === 33, `the host earned ${hostWallet.earnings}, not 33`);

  const replay = await step("the recording reaches the replay catalog (TRTC → VOD → callback)", async () => {
    for (let tries = 0; tries < 40; tries++) {
      const segments = await unwrap(host.api.GET("/v1/rooms/{roomId}/recordings", path));
      if (segments.items.length > 0) return segments;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new DemoFailure("no replay segment 10 s after the close");
  }, (segments) => `${segments.items.length} segment, ${segments.totalDurationSeconds} s`);

  console.log(`
  End of show: room ${roomId} "${room.title}" by ${hostId}
    duration        ${summary.durationSeconds} s (${heartbeats} heartbeats)
    viewers         ${summary.totalViewers} in all, peak ${summary.peakViewers}
    likes           ${summary.likes}
    gift income     ${summary.giftIncome} coins (host's earnings ${hostWallet.earnings})
    heat            ${summary.heat}
    replay          ${replay.items.map((segment) => segment.url).join(", ")}
`);
}

// Loopback calls must not go through a proxy.
for (const name of ["http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY"]) delete process.env[name];
// The crowd signs in through the app identity provider mode, with a key of this run's.
process.env.AUTH_JWT_SECRET ??= randomBytes(32).toString("hex");
process.env.LOG_LEVEL ??= "error";
const jwtSecret = new TextEncoder().encode(process.env.AUTH_JWT_SECRET);

let stack: Stack | undefined;
let failed = false;
try {
  stack = await step("local stack up (DynamoDB Local, Tencent Cloud emulator, every function)", () => startStack({ port: 0, emulatorPort: 0, sweepIntervalSeconds: 2 }), (s) => s.url);
  await show(stack, jwtSecret);
  line("■", `done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
} catch (error) {
  failed = true;
  if (!(error instanceof DemoFailure) && !(error instanceof OnairError)) console.error(error);
  line("■", "the show went wrong; see the step marked ✗");
} finally {
  await stack?.stop();
}
process.exit(failed ? 1 : 0);
