import { createRoute, z } from "@hono/zod-openapi";
import { BillingService, WalletStore } from "../../shared/billing/index.js";
import { Broadcaster } from "../../shared/broadcasts/index.js";
import type { Config } from "../../shared/config/index.js";
import type { Db } from "../../shared/db/index.js";
import { BadRequestError, isAppError, UnauthorizedError } from "../../shared/errors/index.js";
import { createApp, errorResponses, jsonResponse } from "../../shared/http/index.js";
import { createLogger, type Logger } from "../../shared/log/index.js";
import { roomIdOfGroup, RoomService, RoomStore } from "../../shared/rooms/index.js";
import { verifyImCallback } from "../../shared/signatures/index.js";
import type { TencentDeps } from "../../shared/tencent/index.js";

const ImReply = z.object({ ActionStatus: z.literal("OK"), ErrorInfo: z.string(), ErrorCode: z.number() }).openapi("ImCallbackReply");

const route = createRoute({
  method: "post",
  path: "/v1/callbacks/im",
  summary: "Cloud IM third-party callbacks (authenticated with Sign/RequestTime)",
  request: {
    query: z.object({
      SdkAppid: z.string().optional(),
      CallbackCommand: z.string().optional(),
      Sign: z.string().optional(),
      RequestTime: z.string().optional(),
      contenttype: z.string().optional(),
      ClientIP: z.string().optional(),
      OptPlatform: z.string().optional(),
    }),
  },
  responses: { 200: jsonResponse("IM callback reply", ImReply), ...errorResponses(400, 401) },
});

type Body = Record<string, unknown>;
const ok = (verdict: { ErrorCode: number; ErrorInfo: string } = { ErrorCode: 0, ErrorInfo: "" }) => ({ ActionStatus: "OK" as const, ...verdict });

/** Member ids from a callback's member list (`[{Member_Account}]`). */
const memberIds = (list: unknown): string[] =>
  Array.isArray(list) ? list.flatMap((entry) => (typeof entry?.Member_Account === "string" ? [entry.Member_Account as string] : [])) : [];


const eventTimeMs = (body: Body): number => {
  const value = Number(body.EventTime);
  return Number.isFinite(value) && value > 0 ? value : Date.now();
};

export interface ImCallbackDeps {
  db: Db;
  config: Config;
  tencent: TencentDeps;
}

/**
 * The im-callback function: authenticates every call before reading the body, then routes by
 * CallbackCommand. Always answers in IM's reply shape, well inside IM's 2-second timeout.
 */
export function createImCallbackApp(deps: ImCallbackDeps) {
  const app = createApp({ service: "im-callback" });
  const rooms = (log: Logger) => new RoomService({ store: new RoomStore(deps.db), tencent: deps.tencent, config: deps.config, log });
  const broadcaster = new Broadcaster({ db: deps.db, im: deps.tencent.im, log: createLogger({ service: "im-callback" }), settings: deps.config.broadcasts });
  const billing = (log: Logger) => new BillingService({ wallets: new WalletStore(deps.db), rooms: new RoomStore(deps.db), tencent: deps.tencent, log, broadcaster });

  /** Member changes go through the rooms' own join/leave; refusals (host, closed room) are logged, not errors. */
  const eachMember = async (log: Logger, ids: string[], action: (userId: string) => Promise<unknown>) => {
    for (const userId of ids) {
      try {
        await action(userId);
      } catch (error) {
        if (!isAppError(error)) throw error;
        log.info("member change ignored", { userId, code: error.code });
      }
    }
  };

  type Handler = (body: Body, log: Logger, requestTimeSeconds?: number) => Promise<ReturnType<typeof ok>>;
  // A Map, not an object literal: a command named `constructor` or `__proto__` must find nothing.
  const handlers = new Map<string, Handler>(Object.entries({
    // IM's 2 s run from when it sent the callback: billing is budgeted from RequestTime.
    "Group.CallbackBeforeSendMsg": async (body, log, requestTimeSeconds) => ok(await billing(log).giftFromCallback(body, requestTimeSeconds)),
    // IM delivered the message: a gift's charge is final. A report that cannot land times out, so IM retries it.
    "Group.CallbackAfterSendMsg": async (body, log, requestTimeSeconds) => {
      await billing(log).confirmCallbackGift(body, requestTimeSeconds);
      return ok();
    },
    "Group.CallbackAfterNewMemberJoin": async (body, log) => {
      const roomId = roomIdOfGroup(body.GroupId);
      if (roomId !== undefined) await eachMember(log, memberIds(body.NewMemberList), (userId) => rooms(log).join(roomId, userId, String(body.GroupId)));
      return ok();
    },
    "Group.CallbackAfterMemberExit": async (body, log) => {
      const roomId = roomIdOfGroup(body.GroupId);
      if (roomId !== undefined) await eachMember(log, memberIds(body.ExitMemberList), (userId) => rooms(log).leave(roomId, userId, String(body.GroupId)));
      return ok();
    },
    "Group.CallbackOnMemberStateChange": async (body, log) => {
      const roomId = roomIdOfGroup(body.GroupId);
      const online = body.EventType === "Online";
      if (roomId !== undefined && (online || body.EventType === "Offline")) {
        for (const userId of memberIds(body.MemberList)) await rooms(log).hostConnection(userId, online, eventTimeMs(body), roomId);
      }
      return ok();
    },
    "State.StateChange": async (body, log) => {
      const info = (body.Info ?? {}) as { Action?: unknown; To_Account?: unknown };
      if (typeof info.To_Account === "string" && ["Login", "Logout", "Disconnect"].includes(String(info.Action))) {
        await rooms(log).hostConnection(info.To_Account, info.Action === "Login", eventTimeMs(body));
      }
      return ok();
    },
  } satisfies Record<string, Handler>));

  app.openapi(route, async (c) => {
    const query = c.req.valid("query");
    // Authenticate from the query alone: nothing is read or written for a forged call.
    const verdict = verifyImCallback(query, { sdkAppId: deps.config.sdkAppId, token: deps.config.imCallbackToken });
    if (!verdict.ok) throw new UnauthorizedError("invalid_callback_signature", `IM callback rejected: ${verdict.reason}`);
    let body: Body;
    try {
      body = JSON.parse(await c.req.text()) as Body;
    } catch {
      throw new BadRequestError("invalid_json", "callback body is not valid JSON");
    }
    if (typeof body !== "object" || body === null || Array.isArray(body)) throw new BadRequestError("invalid_json", "callback body must be a JSON object");
    const command = query.CallbackCommand ?? (typeof body.CallbackCommand === "string" ? body.CallbackCommand : "");
    const handler = handlers.get(command);
    if (!handler) {
      c.var.log.info("IM callback acknowledged without action", { command });
      return c.json(ok(), 200);
    }
    return c.json(await handler(body, c.var.log, query.RequestTime === undefined ? undefined : Number(query.RequestTime)), 200);
  });
  return app;
}
