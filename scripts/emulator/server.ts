import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { randomUUID } from "node:crypto";
import { signCssCallback, signImCallback, signTrtcCallback } from "../../shared/signatures/index.js";
import { UserSigSigner } from "../../shared/tencent/index.js";
import { verifyTc3 } from "./tc3.js";
import { createTrtc, TrtcFailure, type TrtcRole, type TrtcState } from "./trtc.js";

/**
 * The local Tencent Cloud. It serves
 * - cloud APIs as tencentcloud-sdk-nodejs sends them (`POST /`, TC3-signed; the action from
 *   `X-TC-Action`, the service from the credential scope, never from the host name),
 * - the IM REST API (`POST /v4/<service>/<command>?sdkappid&identifier&usersig&random`),
 *   which checks the admin's UserSig exactly as IM does,
 * - TRTC room entry as a client SDK does it (`/_control/trtc/enter`, `/_control/trtc/switch-role`),
 *   checking UserSig and, with room-entry protection on, the PrivateMapKey,
 * - `GET /_state` (what it holds) and a control API under `/_control` for tests: make a stream
 *   start or stop pushing, put a file in VOD, inject faults per action.
 *
 * Answers use the real response shapes and error codes.
 */
export interface EmulatorOptions {
  port?: number;
  sdkAppId: number;
  /** Key UserSigs are signed with; the IM REST API checks the admin's UserSig with it. */
  userSigKey: string;
  imAdminUser: string;
  /** Cloud API credentials accepted for TC3 (secretId → secretKey). */
  apiSecrets: Record<string, string>;
  /** TRTC room-entry protection (PrivateMapKey required), as the console switch sets it. @default true */
  trtcRoomProtection?: boolean;
  /** Session tokens of temporary credentials (secretId → token), as an SCF execution role's. */
  apiSessionTokens?: Record<string, string>;
  /** Where IM sends its third-party callbacks, and the token it signs them with. */
  imCallback?: { url: string; token: string };
  /** Where CSS, TRTC and VOD send their events (onair's base URL) and their keys. */
  liveCallbacks?: { baseUrl: string; cssKey: string; trtcKey: string; vodToken: string };
  /** The local stack's DynamoDB fault proxy, switched through `/_control/dynamodb/faults`; `set` throws on a bad body. */
  dynamodbFaults?: { get(): unknown; set(body: unknown): void };
}

/** How a fired callback should be wrong, to test onair's authentication. */
export type Forgery = "sign" | "expired" | "sdkappid" | "unsigned";

export interface EmulatedMessage {
  from: string;
  random: number;
  seq: number;
  time: number;
  body: unknown[];
}

export interface EmulatedGroup {
  groupId: string;
  type: string;
  name: string;
  owner?: string;
  destroyed: boolean;
  messages: EmulatedMessage[];
}

/**
 * What the IM console decides about callbacks. `beforeSendOnFailure`: what IM does with a message
 * when the before-send callback times out or fails ("deliver" is IM's default; README tells
 * operators to pick "drop"). `afterSendRetries`: repeats of an after-send callback that got no
 * answer in time (the console's retry on timeout, which README tells operators to turn on; IM
 * does not repeat one answered with an error).
 */
export interface ImCallbackSettings {
  beforeSendOnFailure: "deliver" | "drop";
  afterSendRetries: number;
}

export interface EmulatedStream {
  streamName: string;
  appName: string;
  domainName: string;
  publishTime: string;
}

/**
 * A fault for the next matching calls. `action` is an IM command (`destroy_group`) or a cloud
 * API action (`DropLiveStream`); `match` limits it to requests whose body contains that text
 * (so parallel tests do not disturb each other); `times` limits how often it fires.
 */
export interface Fault {
  action: string;
  match?: string;
  times?: number;
  /** IM ErrorCode (number) or cloud API Error.Code (string). */
  code?: number | string;
  message?: string;
  delayMs?: number;
  /** Close the connection without answering (a network failure). */
  drop?: boolean;
  /** Answer with this HTTP status and no JSON body. */
  httpStatus?: number;
}

export interface EmulatorState {
  accounts: string[];
  groups: EmulatedGroup[];
  c2cMessages: { from: string; to: string; random: number; time: number; body: unknown[] }[];
  dismissedRooms: (number | string)[];
  onlineStreams: EmulatedStream[];
  droppedStreams: string[];
  forbiddenStreams: { streamName: string; reason?: string; resumeTime?: string }[];
  recordings: { taskId: string; roomId: string; userId: string; status: "InProgress" | "Exited"; params: unknown; startedAt: number }[];
  /** VOD's files, as `DescribeMediaInfos` reports them. */
  media: { fileId: string; durationSeconds: number; sizeBytes: number; url: string; createTime: string }[];
  /** TRTC rooms entered through the control API, and the app's room-entry protection. */
  trtc: TrtcState;
  /** The IM console's callback settings (`PUT /_control/im/settings`). */
  im: ImCallbackSettings;
  /** Every action served, in order (for tests counting calls). */
  calls: { action: string; ok: boolean }[];
}

export interface Emulator {
  url: string;
  port: number;
  state: EmulatorState;
  stop(): Promise<void>;
}

type Json = Record<string, unknown>;
type ImReply = Json & { ActionStatus: "OK" | "FAIL"; ErrorCode: number; ErrorInfo: string };

class ImFailure extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}
class CloudFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const imOk = (fields: Json = {}): ImReply => ({ ActionStatus: "OK", ErrorInfo: "", ErrorCode: 0, ...fields });
const imFail = (code: number, info: string): ImReply => ({ ActionStatus: "FAIL", ErrorInfo: info, ErrorCode: code });

/** The whole body of a request (the emulator's and the DynamoDB fault proxy's). */
export function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks)));
    request.on("error", reject);
  });
}

/** POST a platform callback to onair; the reply as JSON when it is JSON, status 0 when unreachable. */
async function postCallback(url: string, headers: Record<string, string>, body: string, timeoutMs: number): Promise<{ status: number; reply: unknown }> {
  const response = await fetch(url, { method: "POST", headers, body, signal: AbortSignal.timeout(timeoutMs) }).catch((error: Error) => ({
    status: 0,
    text: async () => error.message,
  }));
  const text = await response.text();
  try {
    return { status: response.status, reply: JSON.parse(text) as unknown };
  } catch {
    return { status: response.status, reply: text };
  }
}

function send(response: ServerResponse, status: number, body: unknown) {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify(body));
}

const str = (value: unknown, field: string): string => {
  if (typeof value !== "string" || value === "") throw new CloudFailure("MissingParameter", `${field} is required`);
  return value;
};

export async function startEmulator(options: EmulatorOptions): Promise<Emulator> {
  const signer = new UserSigSigner(options.sdkAppId, options.userSigKey);
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
    calls: [],
  };
  const trtc = createTrtc(signer, state.trtc);
  const faults = new Map<string, Fault>();
  const recentGroupMessages = new Map<string, number>();
  const recentC2CMessages = new Map<string, { time: number; key: string }>();
  let seq = 0;
  let msgIds = 0;
  const now = () => Math.floor(Date.now() / 1000);

  const findGroup = (groupId: unknown) => {
    const group = state.groups.find((g) => g.groupId === groupId);
    if (!group || group.destroyed) throw new ImFailure(10010, "the group does not exist or has been dismissed");
    return group;
  };
  const requireAccount = (userId: unknown, code: number) => {
    if (typeof userId !== "string" || !state.accounts.includes(userId)) throw new ImFailure(code, `account ${String(userId)} does not exist`);
  };

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
      state.groups.push({ groupId, type, name, owner: body.Owner_Account as string | undefined, destroyed: false, messages: [] });
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
      if (group.type === "AVChatRoom" && (body.OnlineOnlyFlag !== undefined || body.SendMsgControl !== undefined)) {
        throw new ImFailure(10004, "OnlineOnlyFlag and SendMsgControl are not allowed for AVChatRoom");
      }
      const from = typeof body.From_Account === "string" ? body.From_Account : options.imAdminUser;
      requireAccount(from, 10004);
      // Same content and Random within 5 minutes: IM treats it as the same message.
      const dedupeKey = `${group.groupId}|${random}|${JSON.stringify(body.MsgBody)}`;
      const previous = recentGroupMessages.get(dedupeKey);
      if (previous !== undefined && now() - previous < 300) {
        const existing = group.messages.find((m) => m.random === random)!;
        return { MsgTime: existing.time, MsgSeq: existing.seq, MsgDropReason: "" };
      }
      recentGroupMessages.set(dedupeKey, now());
      const message: EmulatedMessage = { from, random, seq: ++seq, time: now(), body: body.MsgBody };
      group.messages.push(message);
      return { MsgTime: message.time, MsgSeq: message.seq, MsgDropReason: "" };
    },
    send_group_system_notification: (body) => {
      const group = findGroup(body.GroupId);
      if (group.type === "AVChatRoom" && body.ToMembers_Account !== undefined) throw new ImFailure(10004, "ToMembers_Account is not supported for AVChatRoom");
      group.messages.push({ from: "@system", random: 0, seq: ++seq, time: now(), body: [{ MsgType: "SystemNotification", MsgContent: { Content: body.Content } }] });
      return {};
    },
    sendmsg: (body) => {
      requireAccount(body.To_Account, 20003);
      const from = typeof body.From_Account === "string" ? body.From_Account : options.imAdminUser;
      const random = Number(body.MsgRandom);
      if (!Number.isInteger(random) || random < 0 || random > 0xffffffff) throw new ImFailure(90001, "MsgRandom is invalid");
      // As for groups: the same sender, recipient, content and Random within 5 minutes is one message.
      const dedupeKey = `${from}|${String(body.To_Account)}|${random}|${JSON.stringify(body.MsgBody)}`;
      const previous = recentC2CMessages.get(dedupeKey);
      if (previous !== undefined && now() - previous.time < 300) return { MsgTime: previous.time, MsgKey: previous.key };
      const entry = { from, to: String(body.To_Account), random, time: now(), body: body.MsgBody as unknown[] };
      state.c2cMessages.push(entry);
      const key = `${seq++}_${random}_${entry.time}`;
      recentC2CMessages.set(dedupeKey, { time: entry.time, key });
      return { MsgTime: entry.time, MsgKey: key };
    },
    get_online_member_num: (body) => {
      const group = findGroup(body.GroupId);
      if (group.type !== "AVChatRoom") throw new ImFailure(10007, "only AVChatRoom groups have an online count");
      return { OnlineMemberNum: 0 };
    },
  };

  const cloudActions: Record<string, (body: Json) => Json> = {
    RemoveUser: (body) => {
      if (body.SdkAppId !== options.sdkAppId) throw new CloudFailure("InvalidParameter.SdkAppId", "SdkAppId does not match");
      if (!Number.isInteger(body.RoomId)) throw new CloudFailure("InvalidParameter.RoomId", "RoomId must be an integer");
      if (!Array.isArray(body.UserIds) || body.UserIds.length === 0 || body.UserIds.length > 10) throw new CloudFailure("InvalidParameter.UserIds", "UserIds must list 1 to 10 users");
      trtc.remove(body.RoomId as number, body.UserIds as string[]);
      return {};
    },
    DismissRoom: (body) => {
      if (body.SdkAppId !== options.sdkAppId) throw new CloudFailure("InvalidParameter.SdkAppId", "SdkAppId does not match");
      if (!Number.isInteger(body.RoomId)) throw new CloudFailure("InvalidParameter.RoomId", "RoomId must be an integer");
      state.dismissedRooms.push(body.RoomId as number);
      trtc.dismiss(body.RoomId as number);
      return {};
    },
    DismissRoomByStrRoomId: (body) => {
      if (body.SdkAppId !== options.sdkAppId) throw new CloudFailure("InvalidParameter.SdkAppId", "SdkAppId does not match");
      state.dismissedRooms.push(str(body.RoomId, "RoomId"));
      return {};
    },
    CreateCloudRecording: (body) => {
      if (body.SdkAppId !== options.sdkAppId) throw new CloudFailure("InvalidParameter.SdkAppId", "SdkAppId does not match");
      const roomId = str(body.RoomId, "RoomId");
      const userId = str(body.UserId, "UserId");
      if (signer.verify(String(body.UserSig ?? ""), userId) !== "ok") throw new CloudFailure("InvalidParameter.UserSig", "UserSig is invalid");
      const idle = (body.RecordParams as { MaxIdleTime?: number } | undefined)?.MaxIdleTime;
      if (idle !== undefined && !(Number.isInteger(idle) && idle >= 5 && idle <= 86_400)) throw new CloudFailure("InvalidParameter.MaxIdleTime", "MaxIdleTime must be 5-86400");
      const taskId = `task-${randomUUID()}`;
      state.recordings.push({ taskId, roomId, userId, status: "InProgress", params: body, startedAt: Date.now() });
      return { TaskId: taskId };
    },
    DescribeCloudRecording: (body) => {
      const task = state.recordings.find((r) => r.taskId === body.TaskId);
      if (!task) throw new CloudFailure("InvalidParameter.TaskId", "task not found");
      return { TaskId: task.taskId, Status: task.status === "InProgress" ? "InProgress" : "Exited", StorageFileList: [] };
    },
    DeleteCloudRecording: (body) => {
      const task = state.recordings.find((r) => r.taskId === body.TaskId);
      if (!task) throw new CloudFailure("InvalidParameter.TaskId", "task not found");
      if (task.status === "InProgress") setImmediate(() => void uploadRecording(task));
      task.status = "Exited";
      return { TaskId: task.taskId };
    },
    DescribeMediaInfos: (body) => {
      const fileIds = body.FileIds;
      if (!Array.isArray(fileIds) || fileIds.length === 0 || fileIds.length > 20 || !fileIds.every((id) => typeof id === "string")) {
        throw new CloudFailure("InvalidParameterValue.FileIds", "FileIds must hold 1-20 file ids");
      }
      const found = state.media.filter((m) => fileIds.includes(m.fileId));
      return {
        MediaInfoSet: found.map((m) => ({
          FileId: m.fileId,
          BasicInfo: { Name: m.fileId, CreateTime: m.createTime, MediaUrl: m.url, Type: "mp4" },
          MetaData: { Size: m.sizeBytes, Duration: m.durationSeconds, Container: "mp4" },
        })),
        NotExistFileIdSet: fileIds.filter((id) => !found.some((m) => m.fileId === id)),
      };
    },
    DescribeLiveStreamOnlineList: (body) => {
      const pageNum = Number(body.PageNum ?? 1);
      const pageSize = Number(body.PageSize ?? 10);
      if (pageSize < 10 || pageSize > 300000) throw new CloudFailure("InvalidParameter", "PageSize must be 10-300000");
      const matching = state.onlineStreams.filter(
        (s) => (!body.DomainName || s.domainName === body.DomainName) && (!body.AppName || s.appName === body.AppName) && (!body.StreamName || s.streamName === body.StreamName),
      );
      const page = matching.slice((pageNum - 1) * pageSize, pageNum * pageSize);
      return {
        TotalNum: matching.length,
        TotalPage: Math.ceil(matching.length / pageSize),
        PageNum: pageNum,
        PageSize: pageSize,
        OnlineInfo: page.map((s) => ({ StreamName: s.streamName, AppName: s.appName, DomainName: s.domainName, PublishTimeList: [{ PublishTime: s.publishTime }], PushToDelay: 0 })),
      };
    },
    DropLiveStream: (body) => {
      const streamName = str(body.StreamName, "StreamName");
      str(body.DomainName, "DomainName");
      str(body.AppName, "AppName");
      const index = state.onlineStreams.findIndex((s) => s.streamName === streamName);
      // (unconfirmed) the code the real service uses for a stream that is not pushing.
      if (index < 0) throw new CloudFailure("ResourceNotFound.StreamNotAlive", "the stream is not alive");
      state.onlineStreams.splice(index, 1);
      state.droppedStreams.push(streamName);
      return {};
    },
    ForbidLiveStream: (body) => {
      const streamName = str(body.StreamName, "StreamName");
      str(body.DomainName, "DomainName");
      str(body.AppName, "AppName");
      state.onlineStreams = state.onlineStreams.filter((s) => s.streamName !== streamName);
      state.forbiddenStreams.push({ streamName, reason: body.Reason as string | undefined, resumeTime: body.ResumeTime as string | undefined });
      return {};
    },
    ResumeLiveStream: (body) => {
      const streamName = str(body.StreamName, "StreamName");
      state.forbiddenStreams = state.forbiddenStreams.filter((s) => s.streamName !== streamName);
      return {};
    },
  };

  /** The fault for this call, if one is armed; counts it down. */
  function takeFault(action: string, raw: Buffer): Fault | undefined {
    for (const [id, fault] of faults) {
      if (fault.action !== action || (fault.match && !raw.toString("utf8").includes(fault.match))) continue;
      if (fault.times !== undefined) {
        fault.times -= 1;
        if (fault.times <= 0) faults.delete(id);
      }
      return fault;
    }
    return undefined;
  }

  async function applyFault(fault: Fault, response: ServerResponse, failure: () => unknown): Promise<boolean> {
    if (fault.delayMs) await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
    if (fault.drop) {
      response.socket?.destroy();
      return true;
    }
    if (fault.httpStatus) {
      response.writeHead(fault.httpStatus);
      response.end("emulated failure");
      return true;
    }
    if (fault.code !== undefined) {
      send(response, 200, failure());
      return true;
    }
    return false; // a pure delay: answer normally afterwards
  }

  async function handleIm(url: URL, raw: Buffer, response: ServerResponse) {
    const params = url.searchParams;
    const command = url.pathname.replace(/^\/v4\/[^/]+\//, "");
    const reply = (body: ImReply) => {
      state.calls.push({ action: command, ok: body.ErrorCode === 0 });
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
    const fault = takeFault(command, raw);
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

  async function handleCloudApi(request: IncomingMessage, raw: Buffer, response: ServerResponse) {
    const headers = Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, Array.isArray(value) ? value[0] : value]));
    const requestId = randomUUID();
    const answer = (action: string, fields: Json) => {
      state.calls.push({ action, ok: !("Error" in fields) });
      send(response, 200, { Response: { ...fields, RequestId: requestId } });
    };
    const verdict = verifyTc3(headers, raw, options.apiSecrets, undefined, options.apiSessionTokens);
    if (!verdict.ok) return answer(headers["x-tc-action"] ?? "unknown", { Error: { Code: verdict.code, Message: verdict.message } });
    const handler = cloudActions[verdict.action];
    if (!handler) return answer(verdict.action, { Error: { Code: "InvalidAction", Message: `action ${verdict.action} is not emulated` } });
    const fault = takeFault(verdict.action, raw);
    if (fault && (await applyFault(fault, response, () => ({ Response: { Error: { Code: String(fault.code), Message: fault.message ?? "emulated failure" }, RequestId: requestId } })))) {
      state.calls.push({ action: verdict.action, ok: false });
      return;
    }
    try {
      answer(verdict.action, handler(JSON.parse(raw.toString("utf8")) as Json));
    } catch (error) {
      if (error instanceof CloudFailure) return answer(verdict.action, { Error: { Code: error.code, Message: error.message } });
      if (error instanceof SyntaxError) return answer(verdict.action, { Error: { Code: "InvalidParameter", Message: "body is not JSON" } });
      throw error;
    }
  }

  /** POST an IM callback to onair as IM does: query parameters, Sign/RequestTime, JSON body. */
  async function fireImCallback(command: string, body: Json, forge?: Forgery, timeoutMs = 2000): Promise<{ status: number; reply: unknown }> {
    if (!options.imCallback) throw new Error("no IM callback URL configured");
    const requestTime = now() - (forge === "expired" ? 3600 : 0);
    const signature = signImCallback(forge === "sign" ? "not-the-token" : options.imCallback.token, requestTime);
    const query = new URLSearchParams({
      SdkAppid: String(forge === "sdkappid" ? options.sdkAppId + 1 : options.sdkAppId),
      CallbackCommand: command,
      contenttype: "json",
      ClientIP: "203.0.113.9",
      OptPlatform: "RESTAPI",
      ...(forge === "unsigned" ? {} : signature),
    });
    // IM gives a callback 2 seconds.
    return postCallback(`${options.imCallback.url}?${query}`, { "content-type": "application/json" }, JSON.stringify({ CallbackCommand: command, EventTime: Date.now(), ...body }), timeoutMs);
  }

  /** POST a CSS, TRTC or VOD event to onair, signed as that platform signs it (or forged). */
  async function fireLiveCallback(kind: "live" | "trtc" | "vod", event: Json, forge?: Forgery): Promise<{ status: number; reply: unknown }> {
    const target = options.liveCallbacks;
    if (!target) throw new Error("no live callback URL configured");
    let url = `${target.baseUrl}/v1/callbacks/${kind}`;
    let body: string;
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (kind === "live") {
      const t = forge === "expired" ? now() - 1 : now() + 600;
      body = JSON.stringify({ ...event, ...(forge === "unsigned" ? {} : { t, sign: signCssCallback(forge === "sign" ? "not-the-key" : target.cssKey, t) }) });
    } else if (kind === "trtc") {
      body = JSON.stringify(event);
      headers["sdkappid"] = String(options.sdkAppId);
      if (forge !== "unsigned") headers["sign"] = signTrtcCallback(forge === "sign" ? "notTheKey" : target.trtcKey, body);
    } else {
      body = JSON.stringify(event);
      if (forge !== "unsigned") url += `?token=${encodeURIComponent(forge === "sign" ? "not-the-token" : target.vodToken)}`;
    }
    // CSS waits 20 s for an answer.
    return postCallback(url, headers, body, 20_000);
  }

  /** Put a file in the emulated VOD, as `DescribeMediaInfos` will report it. */
  function addMedia(fileId: string, durationSeconds: number, sizeBytes: number) {
    const media = { fileId, durationSeconds, sizeBytes, url: `https://1250000000.vod2.myqcloud.com/emulated/${fileId}/f0.mp4`, createTime: new Date().toISOString().replace(/\.\d+Z$/, "Z") };
    state.media.push(media);
    return media;
  }

  /**
   * What follows a stopped recording on the platform: TRTC reports the recorder's exit (302,
   * stopped by the API), VOD stores the file and reports its upload. So the local stack's
   * replays fill in as a deployment's do.
   */
  async function uploadRecording(task: EmulatorState["recordings"][number]) {
    if (!options.liveCallbacks) return;
    const durationSeconds = Math.max(1, Math.round((Date.now() - task.startedAt) / 1000));
    const media = addMedia(`emu-${task.taskId}`, durationSeconds, durationSeconds * 200_000);
    const vod = (task.params as { StorageParams?: { CloudVod?: { TencentVod?: { SourceContext?: string } } } }).StorageParams?.CloudVod?.TencentVod;
    await fireLiveCallback("trtc", {
      EventGroupId: 3,
      EventType: 302,
      CallbackTs: Date.now(),
      EventInfo: { RoomId: task.roomId, EventTs: now(), UserId: task.userId, TaskId: task.taskId, Payload: { LeaveCode: 0 } },
    });
    await fireLiveCallback("vod", {
      EventType: "NewFileUpload",
      FileUploadEvent: {
        FileId: media.fileId,
        MediaBasicInfo: {
          Name: media.fileId,
          CreateTime: media.createTime,
          MediaUrl: media.url,
          Type: "mp4",
          SourceInfo: { SourceType: "Record", SourceContext: vod?.SourceContext ?? "", TrtcRecordInfo: { SdkAppId: options.sdkAppId, RoomId: task.roomId, TaskId: task.taskId, UserIds: [] } },
        },
        MetaData: { Size: media.sizeBytes, Duration: media.durationSeconds, Container: "mp4" },
      },
    });
  }

  /** CSS stream begin (1) / end (0) event for a stream the emulator starts or stops. */
  const streamEvent = (stream: EmulatedStream, eventType: 0 | 1) => ({
    event_type: eventType,
    appid: 1250000000,
    app: stream.domainName,
    appname: stream.appName,
    stream_id: stream.streamName,
    channel_id: stream.streamName,
    event_time: now(),
    sequence: String(Date.now()),
    push_duration: "0",
    errcode: 0,
    errmsg: "ok",
  });

  /**
   * A client sends a group message: IM runs the before-send callback and delivers the message
   * when it answers ErrorCode 0; no answer in time, or a failure, follows `beforeSendOnFailure`
   * (or this message's `onFailure`, so a test need not change what every other test sees;
   * `timeoutMs` shortens IM's 2 s).
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
    for (let i = 0; i < Math.max(1, Number(body.repeat ?? 1)); i++) replies.push(await fireImCallback("Group.CallbackBeforeSendMsg", event, body.forge as Forgery | undefined, timeoutMs));
    const first = replies[0]!;
    const answered = first.status === 200 && typeof (first.reply as { ErrorCode?: unknown }).ErrorCode === "number";
    const onFailure = body.onFailure === "deliver" || body.onFailure === "drop" ? body.onFailure : state.im.beforeSendOnFailure;
    const delivered = answered ? (first.reply as { ErrorCode: number }).ErrorCode === 0 : onFailure === "deliver";
    if (!delivered) return { delivered, replies };
    const message = { from, random, seq: ++seq, time: now(), body: msgBody };
    group.messages.push(message);
    // IM reports every delivered message, and repeats a report that timed out as the console says.
    const afterSend = [];
    for (let attempt = 0; attempt <= state.im.afterSendRetries; attempt++) {
      const reply = await fireImCallback("Group.CallbackAfterSendMsg", { ...event, MsgSeq: message.seq, MsgTime: message.time });
      afterSend.push(reply);
      if (reply.status !== 0) break;
    }
    return { delivered, replies, afterSend };
  }

  async function handleControl(method: string, path: string, raw: Buffer, response: ServerResponse) {
    const body = raw.length > 0 ? (JSON.parse(raw.toString("utf8")) as Json) : {};
    const groupMessage = /^\/_control\/groups\/([^/]+)\/messages$/.exec(path);
    if (method === "POST" && groupMessage) {
      try {
        return send(response, 200, await clientSendsGroupMessage(decodeURIComponent(groupMessage[1]!), body));
      } catch (error) {
        if (error instanceof ImFailure) return send(response, 404, { error: error.message, code: error.code });
        throw error;
      }
    }
    if (method === "POST" && path === "/_control/callbacks/im") {
      return send(response, 200, await fireImCallback(String(body.command), (body.body ?? {}) as Json, body.forge as Forgery | undefined));
    }
    if (method === "POST" && path === "/_control/streams") {
      const streamName = String(body.streamName);
      state.onlineStreams = state.onlineStreams.filter((s) => s.streamName !== streamName);
      const stream: EmulatedStream = {
        streamName,
        appName: String(body.appName ?? "live"),
        domainName: String(body.domainName ?? ""),
        // `publishedSecondsAgo` lets tests push a stream that has been up for a while.
        publishTime: new Date(Date.now() - Number(body.publishedSecondsAgo ?? 0) * 1000).toISOString().replace(/\.\d+Z$/, "Z"),
      };
      state.onlineStreams.push(stream);
      const callback = body.callback && options.liveCallbacks ? await fireLiveCallback("live", streamEvent(stream, 1)) : undefined;
      return send(response, 201, { streamName, callback });
    }
    const stream = /^\/_control\/streams\/([^/]+)$/.exec(path);
    if (method === "DELETE" && stream) {
      const name = decodeURIComponent(stream[1]!);
      const gone = state.onlineStreams.find((s) => s.streamName === name);
      state.onlineStreams = state.onlineStreams.filter((s) => s.streamName !== name);
      const callback = gone && body.callback && options.liveCallbacks ? await fireLiveCallback("live", streamEvent(gone, 0)) : undefined;
      return send(response, 200, { callback });
    }
    if (method === "POST" && path === "/_control/media") {
      if (typeof body.fileId !== "string") return send(response, 400, { error: "fileId is required" });
      addMedia(body.fileId, Number(body.durationSeconds ?? 0), Number(body.sizeBytes ?? 0));
      return send(response, 201, {});
    }
    const live = /^\/_control\/callbacks\/(live|trtc|vod)$/.exec(path);
    if (method === "POST" && live) {
      return send(response, 200, await fireLiveCallback(live[1] as "live" | "trtc" | "vod", (body.body ?? {}) as Json, body.forge as Forgery | undefined));
    }
    if (method === "POST" && (path === "/_control/trtc/enter" || path === "/_control/trtc/switch-role")) {
      const request = {
        userId: String(body.userId ?? ""),
        userSig: String(body.userSig ?? ""),
        roomId: Number(body.roomId),
        role: (body.role === "anchor" ? "anchor" : "audience") as TrtcRole,
        privateMapKey: typeof body.privateMapKey === "string" ? body.privateMapKey : undefined,
      };
      try {
        const room = path.endsWith("/enter") ? trtc.enterRoom(request) : trtc.switchRole(request);
        return send(response, 200, { code: 0, message: "", room });
      } catch (error) {
        if (error instanceof TrtcFailure) return send(response, 403, { code: error.code, message: error.message });
        throw error;
      }
    }
    if (method === "PUT" && path === "/_control/im/settings") {
      if (body.beforeSendOnFailure === "deliver" || body.beforeSendOnFailure === "drop") state.im.beforeSendOnFailure = body.beforeSendOnFailure;
      if (Number.isInteger(body.afterSendRetries) && Number(body.afterSendRetries) >= 0) state.im.afterSendRetries = Number(body.afterSendRetries);
      return send(response, 200, state.im);
    }
    if (method === "PUT" && path === "/_control/trtc/settings") {
      if (typeof body.roomProtection === "boolean") state.trtc.roomProtection = body.roomProtection;
      return send(response, 200, { roomProtection: state.trtc.roomProtection });
    }
    if (path === "/_control/dynamodb/faults" && options.dynamodbFaults && (method === "GET" || method === "PUT")) {
      if (method === "PUT") {
        try {
          options.dynamodbFaults.set(body);
        } catch (error) {
          return send(response, 400, { error: (error as Error).message });
        }
      }
      return send(response, 200, options.dynamodbFaults.get());
    }
    if (method === "POST" && path === "/_control/faults") {
      if (typeof body.action !== "string") return send(response, 400, { error: "action is required" });
      const id = randomUUID();
      faults.set(id, body as unknown as Fault);
      return send(response, 201, { id });
    }
    const fault = /^\/_control\/faults\/([^/]+)$/.exec(path);
    if (method === "DELETE" && fault) {
      faults.delete(fault[1]!);
      return send(response, 200, {});
    }
    send(response, 404, { error: `no control endpoint ${method} ${path}` });
  }

  const server: Server = createServer(async (request, response) => {
    try {
      const url = new URL(request.url ?? "/", "http://emulator");
      const raw = await readBody(request);
      if (request.method === "GET" && url.pathname === "/_state") return send(response, 200, state);
      if (url.pathname.startsWith("/_control/")) return await handleControl(request.method ?? "GET", url.pathname, raw, response);
      if (request.method === "POST" && url.pathname.startsWith("/v4/")) return await handleIm(url, raw, response);
      if (request.method === "POST" && url.pathname === "/") return await handleCloudApi(request, raw, response);
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
