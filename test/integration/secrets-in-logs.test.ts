import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { createImCallbackApp } from "../../functions/im-callback/app.js";
import { createLiveCallbackApp } from "../../functions/live-callback/app.js";
import { createRoomsApp } from "../../functions/rooms/app.js";
import { createUserSigApp } from "../../functions/usersig/app.js";
import { createWalletApp } from "../../functions/wallet/app.js";
import { getConfig } from "../../shared/config/index.js";
import { createDb } from "../../shared/db/index.js";
import { logSink } from "../../shared/log/index.js";
import { signCssCallback, signImCallback, signTrtcCallback } from "../../shared/signatures/index.js";
import { createTencentDeps } from "../../shared/tencent/index.js";
import { createVodMedia } from "../../shared/tencent/vod.js";
import { injectFault, uniqueUserId } from "../helpers.js";

const config = getConfig();
const db = createDb(config);
const tencent = createTencentDeps(config);
const deps = { db, config, tencent };
const apps = {
  usersig: createUserSigApp(deps),
  rooms: createRoomsApp(deps),
  wallet: createWalletApp(deps),
  im: createImCallbackApp(deps),
  live: createLiveCallbackApp({ ...deps, vod: createVodMedia(config) }),
};

const call = async (app: { request: (path: string, init: RequestInit) => Response | Promise<Response> }, method: string, path: string, options: { body?: unknown; raw?: string; headers?: Record<string, string>; token?: string } = {}) => {
  const headers: Record<string, string> = { "content-type": "application/json", ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const response = await app.request(path, { method, headers, body: options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body)) });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
};

const originalWrite = logSink.write;
afterEach(() => {
  logSink.write = originalWrite;
  process.env.LOG_LEVEL = "warn";
});

describe("logs of a whole show", () => {
  it("never contain a configured secret or a credential handed to a client, even on failures", async () => {
    const lines: string[] = [];
    logSink.write = (line) => void lines.push(line);
    process.env.LOG_LEVEL = "debug";
    const handedOut: string[] = [];

    const host = { userId: uniqueUserId("host"), password: "host-secret-password" };
    const viewer = { userId: uniqueUserId("viewer"), password: "viewer-secret-password" };
    const tokens: Record<string, string> = {};
    for (const user of [host, viewer]) {
      expect((await call(apps.usersig, "POST", "/v1/accounts", { body: user })).status).toBe(201);
      await call(apps.usersig, "POST", "/v1/sessions", { body: { ...user, password: "a-wrong-password" } });
      tokens[user.userId] = (await call(apps.usersig, "POST", "/v1/sessions", { body: user })).body.token;
      handedOut.push(user.password, tokens[user.userId]!, (await call(apps.usersig, "POST", "/v1/usersig", { token: tokens[user.userId] })).body.userSig);
    }

    const created = await call(apps.rooms, "POST", "/v1/rooms", { token: tokens[host.userId], body: { title: "Secret show" } });
    const { roomId, groupId, streamId, pushUrl } = created.body;
    handedOut.push(new URL(pushUrl).searchParams.get("txSecret")!);
    await call(apps.rooms, "POST", `/v1/rooms/${roomId}/live`, { token: tokens[host.userId] });
    await call(apps.rooms, "POST", `/v1/rooms/${roomId}/members`, { token: tokens[viewer.userId] });
    handedOut.push((await call(apps.rooms, "POST", `/v1/rooms/${roomId}/ticket`, { token: tokens[viewer.userId] })).body.privateMapKey);

    await call(apps.wallet, "POST", `/v1/admin/wallets/${viewer.userId}/credits`, { body: { amount: 50, reason: "top-up" }, headers: { "x-admin-key": config.adminKey, "idempotency-key": randomUUID() } });
    await call(apps.wallet, "POST", `/v1/admin/wallets/${viewer.userId}/credits`, { body: { amount: 50, reason: "top-up" }, headers: { "x-admin-key": "a-wrong-admin-key-guess", "idempotency-key": randomUUID() } });
    // A failing IM send is logged with the SDK's error; its request must not leak the admin UserSig.
    const disarm = await injectFault({ action: "send_group_msg", match: groupId, code: 10004, times: 3 });
    await call(apps.wallet, "POST", "/v1/wallet/gifts", { token: tokens[viewer.userId], body: { roomId, giftId: "rose", count: 1 }, headers: { "idempotency-key": randomUUID() } });
    await disarm();

    const now = Math.floor(Date.now() / 1000);
    const imQuery = (token: string) => new URLSearchParams({ SdkAppid: String(config.sdkAppId), CallbackCommand: "Group.CallbackBeforeSendMsg", ...signImCallback(token, now) });
    const giftMessage = { GroupId: groupId, From_Account: viewer.userId, Random: 42, MsgId: "m-1", MsgBody: [{ MsgType: "TIMCustomElem", MsgContent: { Data: JSON.stringify({ type: "gift", giftId: "rose", count: 1 }), Desc: "gift" } }] };
    await call(apps.im, "POST", `/v1/callbacks/im?${imQuery(config.imCallbackToken)}`, { body: giftMessage });
    await call(apps.im, "POST", `/v1/callbacks/im?${imQuery("not-the-token")}`, { body: giftMessage });
    const t = now + 600;
    await call(apps.live, "POST", "/v1/callbacks/live", { body: { event_type: 1, stream_id: streamId, t, sign: signCssCallback(config.cssCallbackKey, t) } });
    await call(apps.live, "POST", "/v1/callbacks/live", { body: { event_type: 1, stream_id: streamId, t, sign: signCssCallback("not-the-key", t) } });
    const trtcBody = JSON.stringify({ EventGroupId: 1, EventType: 103, CallbackTs: Date.now(), EventInfo: { RoomId: roomId, UserId: viewer.userId } });
    await call(apps.live, "POST", "/v1/callbacks/trtc", { raw: trtcBody, headers: { sign: signTrtcCallback(config.trtcCallbackKey, trtcBody), sdkappid: String(config.sdkAppId) } });
    await call(apps.live, "POST", `/v1/callbacks/vod?token=${config.vodCallbackToken}`, { body: { EventType: "Other" } });
    await call(apps.live, "POST", "/v1/callbacks/vod?token=a-guessed-token", { body: { EventType: "Other" } });
    await call(apps.usersig, "DELETE", "/v1/sessions/current", { token: tokens[viewer.userId] });
    await call(apps.rooms, "POST", `/v1/rooms/${roomId}/close`, { token: tokens[host.userId] });

    const configured = [config.userSigKey, config.imCallbackToken, config.cssCallbackKey, config.trtcCallbackKey, config.cssPushKey, config.adminKey, config.vodCallbackToken, config.jwt?.secret, config.tencentCloud.secretKey];
    const secrets = [...configured, ...handedOut].filter((secret): secret is string => typeof secret === "string" && secret.length >= 8);
    expect(secrets.length).toBeGreaterThanOrEqual(configured.filter(Boolean).length + 8);
    const log = lines.join("\n");
    expect(lines.length).toBeGreaterThan(25);
    // The flow did log: each function, and the failures.
    for (const service of ["usersig", "rooms", "wallet", "im-callback", "live-callback"]) expect(log).toContain(`"service":"${service}"`);
    expect(log).toContain(`"status":401`);
    for (const secret of secrets) expect(log, `a log line contains a secret (${secret.slice(0, 4)}…)`).not.toContain(secret);
  }, 60_000);
});
