import { createServer, type Server } from "node:http";
import { UserSigSigner } from "../../shared/tencent/index.js";
import { createCallbacks } from "./callbacks.js";
import { createCloud } from "./cloud.js";
import { createControl } from "./control.js";
import type { Fault } from "./faults.js";
import { createIm } from "./im.js";
import { createImLimits, imLimitDefaults, imLimitsFromEnv } from "./limits.js";
import { createTrtc } from "./trtc.js";
import { readBody, send, type EmulatorContext, type EmulatorOptions, type EmulatorState } from "./types.js";

export type { Fault } from "./faults.js";
export type { ImLimitSettings } from "./limits.js";
export { imLimitDefaults } from "./limits.js";
export { readBody, type DroppedMessage, type EmulatedGroup, type EmulatedMessage, type EmulatedStream, type EmulatorOptions, type EmulatorState, type Forgery, type ImCallbackSettings, type MsgPriority } from "./types.js";

/**
 * The local Tencent Cloud, one module per service as Hono keeps one adapter per runtime:
 * - `cloud.ts`: cloud APIs as tencentcloud-sdk-nodejs sends them (TC3-signed `POST /`);
 * - `im.ts`: the IM REST API, checking the admin's UserSig and enforcing IM's limits (`limits.ts`);
 * - `trtc.ts`: TRTC room entry as a client SDK does it, with the PrivateMapKey check;
 * - `callbacks.ts`: the platform's callbacks to onair, signed;
 * - `faults.ts`: faults injected per action;
 * - `control.ts`: the control API under `/_control`; and `GET /_state`, what it holds.
 *
 * Answers use the real response shapes and error codes.
 */
export interface Emulator {
  url: string;
  port: number;
  state: EmulatorState;
  stop(): Promise<void>;
}

export async function startEmulator(options: EmulatorOptions): Promise<Emulator> {
  const signer = new UserSigSigner(options.sdkAppId, options.userSigKey);
  const limits = createImLimits({ ...imLimitDefaults, ...imLimitsFromEnv(process.env), ...options.imLimits });
  const state: EmulatorState = {
    accounts: [options.imAdminUser],
    groups: [],
    c2cMessages: [],
    dismissedRooms: [],
    onlineStreams: [],
    droppedStreams: [],
    forbiddenStreams: [],
    recordings: [],
    media: [],
    trtc: { roomProtection: options.trtcRoomProtection ?? true, rooms: [] },
    im: { beforeSendOnFailure: "drop", afterSendRetries: 2 },
    imLimits: limits.settings,
    calls: [],
  };
  let seq = 0;
  const ctx: EmulatorContext = { options, state, signer, faults: new Map<string, Fault>(), nextSeq: () => ++seq };
  const trtc = createTrtc(signer, state.trtc);
  const callbacks = createCallbacks(ctx);
  const im = createIm(ctx, limits, callbacks);
  const cloud = createCloud(ctx, trtc, callbacks);
  const control = createControl(ctx, { im, callbacks, trtc, limits });

  const server: Server = createServer(async (request, response) => {
    try {
      const url = new URL(request.url ?? "/", "http://emulator");
      const raw = await readBody(request);
      if (request.method === "GET" && url.pathname === "/_state") return send(response, 200, state);
      if (url.pathname.startsWith("/_control/")) return await control.handle(request.method ?? "GET", url.pathname, raw, response);
      if (request.method === "POST" && url.pathname.startsWith("/v4/")) return await im.handle(url, raw, response);
      if (request.method === "POST" && url.pathname === "/") return await cloud.handle(request, raw, response);
      send(response, 404, { error: `no emulated endpoint ${request.method} ${url.pathname}` });
    } catch (error) {
      send(response, 500, { error: (error as Error).message });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    state,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
