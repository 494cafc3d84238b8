import { randomUUID } from "node:crypto";
import type { ServerResponse } from "node:http";
import type { Callbacks } from "./callbacks.js";
import { applyFault, takeFault } from "./faults.js";
import type { ImLimits } from "./limits.js";
import {
  imFail,
  ImFailure,
  imOk,
  nowSeconds as now,
  send,
  type EmulatedGroup,
  type EmulatedMessage,
  type EmulatorContext,
  type Forgery,
  type ImReply,
  type Json,
  type MsgPriority,
} from "./types.js";

const priorities = new Set(["High", "Normal", "Low", "Lowest"]);
const isPriority = (value: unknown): value is MsgPriority => typeof value === "string" && priorities.has(value);

/** IM refuses a message whose body is over 12 KB (80002); counted here as the body's JSON is sent, escapes and all. */
export const maxMessageBodyBytes = 12 * 1024;
function requireWithinSizeLimit(msgBody: unknown) {
  if (Buffer.byteLength(JSON.stringify(msgBody)) > maxMessageBodyBytes) throw new ImFailure(80002, "the message is over 12 KB");
}

/**
 * The IM REST API (`POST /v4/<service>/<command>?sdkappid&identifier&usersig&random`), which
 * checks the admin's UserSig exactly as IM does and enforces IM's frequency limits, and a
 * client's group message (with the before-send callback) for the control API.
 */
export function createIm(ctx: EmulatorContext, limits: ImLimits, callbacks: Callbacks) {
  const { options, state, signer, faults } = ctx;
  const recentGroupMessages = new Map<string, number>();
  const recentC2CMessages = new Map<string, { time: number; key: string }>();
  let msgIds = 0;

  const findGroup = (groupId: unknown) => {
    const group = state.groups.find((g) => g.groupId === groupId);
    if (!group || group.destroyed) throw new ImFailure(10010, "the group does not exist or has been dismissed");
    return group;
  };
  const requireAccount = (userId: unknown, code: number) => {
    if (typeof userId !== "string" || !state.accounts.includes(userId)) throw new ImFailure(code, `account ${String(userId)} does not exist`);
  };

  /** Deliver a message within the group's rate, or drop it (`MsgFreqCtrl`), as IM does past ~40/s. */
  function deliver(group: EmulatedGroup, message: { from: string; random: number; body: unknown[]; priority: MsgPriority }): EmulatedMessage | undefined {
    if (!limits.admitGroupMessage(group.groupId, message.priority)) {
      group.dropped.push({ ...message, time: now(), reason: "MsgFreqCtrl" });
      return undefined;
    }
    const delivered: EmulatedMessage = { ...message, seq: ctx.nextSeq(), time: now() };
    group.messages.push(delivered);
    return delivered;
  }

  const imCommands: Record<string, (body: Json) => Json> = {
    account_import: (body) => {
      const userId = body.UserID;
      if (typeof userId !== "string" || userId.length === 0 || Buffer.byteLength(userId) > 32) throw new ImFailure(70402, "UserID is invalid");
      if (!state.accounts.includes(userId)) state.accounts.push(userId);
      return {};
    },
    create_group: (body) => {
      const type = String(body.Type ?? "");
      if (!["Public", "Private", "Work", "ChatRoom", "Meeting", "AVChatRoom", "Community"].includes(type)) throw new ImFailure(10007, "Type is invalid");
      const name = body.Name;
      if (typeof name !== "string" || name === "" || Buffer.byteLength(name) > 30) throw new ImFailure(10004, "Name is invalid");
      if (type === "AVChatRoom" && body.MemberList !== undefined) throw new ImFailure(10007, "MemberList is not allowed for AVChatRoom");
      if (body.Owner_Account !== undefined) requireAccount(body.Owner_Account, 10019);
      const groupId = typeof body.GroupId === "string" ? body.GroupId : `@TGS#${randomUUID().slice(0, 8)}`;
      if (Buffer.byteLength(groupId) > 48 || groupId.startsWith("@TGS#") !== (body.GroupId === undefined)) throw new ImFailure(10015, "GroupId is invalid");
      if (state.groups.some((g) => g.groupId === groupId)) throw new ImFailure(10025, "the group id is already used by you");
      state.groups.push({ groupId, type, name, owner: body.Owner_Account as string | undefined, destroyed: false, messages: [], dropped: [] });
      return { GroupId: groupId };
    },
    destroy_group: (body) => {
      findGroup(body.GroupId).destroyed = true;
      return {};
    },
    send_group_msg: (body) => {
      const group = findGroup(body.GroupId);
      const random = Number(body.Random);
      if (!Number.isInteger(random) || random < 0 || random > 0xffffffff) throw new ImFailure(10004, "Random is invalid");
      if (!Array.isArray(body.MsgBody) || body.MsgBody.length === 0) throw new ImFailure(10004, "MsgBody is invalid");
      requireWithinSizeLimit(body.MsgBody);
      if (group.type === "AVChatRoom" && (body.OnlineOnlyFlag !== undefined || body.SendMsgControl !== undefined)) {
        throw new ImFailure(10004, "OnlineOnlyFlag and SendMsgControl are not allowed for AVChatRoom");
      }
      const priority = body.MsgPriority ?? "Normal";
      if (!isPriority(priority)) throw new ImFailure(10004, "MsgPriority is invalid");
      const from = typeof body.From_Account === "string" ? body.From_Account : options.imAdminUser;
      requireAccount(from, 10004);
      // Same content and Random within 5 minutes: IM treats it as the same message.
      const dedupeKey = `${group.groupId}|${random}|${JSON.stringify(body.MsgBody)}`;
      const previous = recentGroupMessages.get(dedupeKey);
      if (previous !== undefined && now() - previous < 300) {
        const existing = group.messages.find((m) => m.random === random)!;
        return { MsgTime: existing.time, MsgSeq: existing.seq, MsgDropReason: "" };
      }
      const delivered = deliver(group, { from, random, body: body.MsgBody, priority });
      // Only a delivered message is remembered: a dropped one sent again is a new send.
      if (delivered) recentGroupMessages.set(dedupeKey, now());
      return delivered ? { MsgTime: delivered.time, MsgSeq: delivered.seq, MsgDropReason: "" } : { MsgTime: now(), MsgSeq: 0, MsgDropReason: "MsgFreqCtrl" };
    },
    send_group_system_notification: (body) => {
      const group = findGroup(body.GroupId);
      if (group.type === "AVChatRoom" && body.ToMembers_Account !== undefined) throw new ImFailure(10004, "ToMembers_Account is not supported for AVChatRoom");
      deliver(group, { from: "@system", random: 0, body: [{ MsgType: "SystemNotification", MsgContent: { Content: body.Content } }], priority: "High" });
      return {};
    },
    sendmsg: (body) => {
      requireAccount(body.To_Account, 20003);
      const from = typeof body.From_Account === "string" ? body.From_Account : options.imAdminUser;
      const random = Number(body.MsgRandom);
      if (!Number.isInteger(random) || random < 0 || random > 0xffffffff) throw new ImFailure(90001, "MsgRandom is invalid");
      requireWithinSizeLimit(body.MsgBody);
      // As for groups: the same sender, recipient, content and Random within 5 minutes is one message.
      const dedupeKey = `${from}|${String(body.To_Account)}|${random}|${JSON.stringify(body.MsgBody)}`;
      const previous = recentC2CMessages.get(dedupeKey);
      if (previous !== undefined && now() - previous.time < 300) return { MsgTime: previous.time, MsgKey: previous.key };
      const entry = { from, to: String(body.To_Account), random, time: now(), body: body.MsgBody as unknown[] };
      state.c2cMessages.push(entry);
      const key = `${ctx.nextSeq()}_${random}_${entry.time}`;
      recentC2CMessages.set(dedupeKey, { time: entry.time, key });
      return { MsgTime: entry.time, MsgKey: key };
    },
    get_online_member_num: (body) => {
      const group = findGroup(body.GroupId);
      if (group.type !== "AVChatRoom") throw new ImFailure(10007, "only AVChatRoom groups have an online count");
      return { OnlineMemberNum: 0 };
    },
  };

  async function handle(url: URL, raw: Buffer, response: ServerResponse) {
    const params = url.searchParams;
    const command = url.pathname.replace(/^\/v4\/[^/]+\//, "");
    const reply = (body: ImReply) => {
      state.calls.push({ action: command, ok: body.ErrorCode === 0, ...(body.ErrorCode === 0 ? {} : { code: body.ErrorCode }) });
      send(response, 200, body);
    };
    if (params.get("sdkappid") !== String(options.sdkAppId)) return reply(imFail(60006, "SDKAppID is invalid"));
    const identifier = params.get("identifier") ?? "";
    const verdict = signer.verify(params.get("usersig") ?? "", identifier);
    if (verdict === "expired") return reply(imFail(70001, "UserSig has expired"));
    if (verdict !== "ok") return reply(imFail(70003, "UserSig is invalid"));
    if (identifier !== options.imAdminUser) return reply(imFail(60010, "the request requires app admin permission"));
    const random = Number(params.get("random"));
    if (!Number.isInteger(random) || random < 0 || random > 0xffffffff) return reply(imFail(60002, "random is invalid"));
    const handler = imCommands[command];
    if (!handler) return reply(imFail(60020, `command ${command} is not emulated`));
    if (!limits.admitRestCall(command)) return reply(imFail(60007, `the app calls ${command} more often than its ${limits.settings.restCallsPerSecond} per second; retry later`));
    const fault = takeFault(faults, command, raw);
    if (fault && (await applyFault(fault, response, () => imFail(Number(fault.code), fault.message ?? "emulated failure")))) {
      state.calls.push({ action: command, ok: false });
      return;
    }
    let body: unknown;
    try {
      body = JSON.parse(raw.toString("utf8"));
    } catch {
      return reply(imFail(60003, "request body is not valid JSON"));
    }
    if (typeof body !== "object" || body === null || Array.isArray(body)) return reply(imFail(60003, "request body must be a JSON object"));
    try {
      reply(imOk(handler(body as Json)));
    } catch (error) {
      if (error instanceof ImFailure) return reply(imFail(error.code, error.message));
      throw error;
    }
  }

  /**
   * A client sends a group message: IM runs the before-send callback and delivers the message
   * when it answers ErrorCode 0; no answer in time, or a failure, follows `beforeSendOnFailure`
   * (or this message's `onFailure`, so a test need not change what every other test sees;
   * `timeoutMs` shortens IM's 2 s). A message it would deliver still counts against the group's
   * rate (`priority`, Normal unless the client sets it) and may be dropped (`dropReason`).
   * A delivered message is reported by the after-send callback. `repeat` redelivers the
   * before-send callback.
   */
  async function clientSendsGroupMessage(groupId: string, body: Json) {
    const group = findGroup(groupId);
    const from = String(body.from);
    const random = Number(body.random ?? Math.floor(Math.random() * 0xffffffff));
    const msgBody = body.msgBody as unknown[];
    // A test can make IM give up sooner than its 2 s, as if onair's answer were late.
    const timeoutMs = Number.isInteger(body.timeoutMs) && Number(body.timeoutMs) > 0 ? Number(body.timeoutMs) : 2000;
    const event = {
      GroupId: groupId,
      Type: group.type,
      From_Account: from,
      Operator_Account: from,
      Random: random,
      // IM's own id for the message: unique per send, whatever Random the client chose.
      MsgId: `${++msgIds}-${now()}-${random}`,
      OnlineOnlyFlag: 0,
      MsgBody: msgBody,
      CloudCustomData: "",
    };
    const replies = [];
    for (let i = 0; i < Math.max(1, Number(body.repeat ?? 1)); i++) {
      replies.push(await callbacks.fireImCallback("Group.CallbackBeforeSendMsg", event, body.forge as Forgery | undefined, timeoutMs));
    }
    const first = replies[0]!;
    const answered = first.status === 200 && typeof (first.reply as { ErrorCode?: unknown }).ErrorCode === "number";
    const onFailure = body.onFailure === "deliver" || body.onFailure === "drop" ? body.onFailure : state.im.beforeSendOnFailure;
    const allowed = answered ? (first.reply as { ErrorCode: number }).ErrorCode === 0 : onFailure === "deliver";
    if (!allowed) return { delivered: false, replies };
    const message = deliver(group, { from, random, body: msgBody, priority: isPriority(body.priority) ? body.priority : "Normal" });
    if (!message) return { delivered: false, replies, dropReason: "MsgFreqCtrl" };
    // IM reports every delivered message, and repeats a report that timed out as the console says.
    const afterSend = [];
    for (let attempt = 0; attempt <= state.im.afterSendRetries; attempt++) {
      const reply = await callbacks.fireImCallback("Group.CallbackAfterSendMsg", { ...event, MsgSeq: message.seq, MsgTime: message.time });
      afterSend.push(reply);
      if (reply.status !== 0) break;
    }
    return { delivered: true, replies, afterSend };
  }

  return { handle, clientSendsGroupMessage };
}
