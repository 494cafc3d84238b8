import * as z from "zod/mini";
import { BillingService, WalletStore } from "../../shared/billing/index.js";
import { Broadcaster } from "../../shared/broadcasts/index.js";
import type { Config } from "../../shared/config/index.js";
import type { Db } from "../../shared/db/index.js";
import { BadRequestError, isAppError, UnauthorizedError } from "../../shared/errors/index.js";
import { createApp, createRoute, errorResponses, jsonResponse, noSecurity } from "../../shared/http/index.js";
import { createLogger, type Logger } from "../../shared/log/index.js";
import { roomIdOfGroup, RoomService, RoomStore } from "../../shared/rooms/index.js";
import { verifyImCallback } from "../../shared/signatures/index.js";
import type { TencentDeps } from "../../shared/tencent/index.js";
import { lazy } from "../../shared/lazy/index.js";

const ImReply = lazy(() => z.object({ ActionStatus: z.literal("OK"), ErrorInfo: z.string(), ErrorCode: z.number() }).check(z.meta({ id: "ImCallbackReply" })));

/** The body IM posts; checked by hand after the signature, so its schema documents and never validates. */
const ImCallbackBody = {
  type: "object" as const,
  description: "A Cloud IM callback event; `CallbackCommand` names it. Fields beyond those below are as IM documents them per command.",
  required: ["CallbackCommand"],
  properties: {
    CallbackCommand: { type: "string" as const, example: "Group.CallbackBeforeSendMsg" },
    GroupId: { type: "string" as const },
    From_Account: { type: "string" as const },
    MsgId: { type: "string" as const, description: "IM's id of the message: a redelivery of one message is billed once" },
    Random: { type: "integer" as const },
    MsgBody: { type: "array" as const, items: { type: "object" as const, properties: { MsgType: { type: "string" as const }, MsgContent: { type: "object" as const } } } },
  },
  additionalProperties: true,
};

const route = createRoute({
  method: "post",
  path: "/v1/callbacks/im",
  operationId: "imCallback",
  summary: "Cloud IM third-party callbacks",
  description:
    "Authenticated from the query alone, before the body is read: `SdkAppid` must match and `Sign` = hex SHA-256(IM_CALLBACK_TOKEN + RequestTime), RequestTime within 60 s. A gift is a group message with one TIMCustomElem whose Data is `{\"type\":\"gift\",\"giftId\",\"count\"}`; the reply's ErrorCode allows it (0) or rejects it (10101-10199, see the README).",
  security: noSecurity,
  request: () => ({
    query: z.object({
      SdkAppid: z.optional(z.string()).check(z.meta({ example: "1400000000" })),
      CallbackCommand: z.optional(z.string()).check(z.meta({ example: "Group.CallbackBeforeSendMsg" })),
      Sign: z.optional(z.string()).check(z.meta({ description: "hex SHA-256(IM_CALLBACK_TOKEN + RequestTime)" })),
      RequestTime: z.optional(z.string()).check(z.meta({ description: "Unix seconds", example: "1795629600" })),
      contenttype: z.optional(z.string()).check(z.meta({ example: "json" })),
      ClientIP: z.optional(z.string()),
      OptPlatform: z.optional(z.string()),
    }),
    body: {
      required: true,
      content: {
        "application/json": {
          schema: ImCallbackBody,
          example: {
            CallbackCommand: "Group.CallbackBeforeSendMsg",
            GroupId: "room_100001",
            Type: "AVChatRoom",
            From_Account: "bob",
            Operator_Account: "bob",
            Random: 123456,
            MsgId: "144115233406644802-1795629600-123456",
            MsgBody: [{ MsgType: "TIMCustomElem", MsgContent: { Data: '{"type":"gift","giftId":"rose","count":3}', Desc: "gift" } }],
          },
        },
      },
    },
  }),
  responses: () => ({
    200: jsonResponse("IM callback reply: ErrorCode 0 allows a message, any other rejects it", ImReply(), { ActionStatus: "OK", ErrorInfo: "", ErrorCode: 0 }),
    ...errorResponses("invalid_callback_signature", "invalid_json", "payload_too_large", "store_unavailable"),
  }),
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
