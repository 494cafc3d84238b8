import type { IncomingMessage, ServerResponse } from "node:http";
import type { UserSigSigner } from "../../shared/tencent/index.js";
import type { Fault } from "./faults.js";
import type { ImLimitSettings } from "./limits.js";
import type { TrtcState } from "./trtc.js";

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
  /** IM's frequency limits. @default the documented figures (`imLimitDefaults`), or EMULATOR_IM_* */
  imLimits?: Partial<ImLimitSettings>;
}

/** How a fired callback should be wrong, to test onair's authentication. */
export type Forgery = "sign" | "expired" | "sdkappid" | "unsigned";

export type MsgPriority = "High" | "Normal" | "Low" | "Lowest";

export interface EmulatedMessage {
  from: string;
  random: number;
  seq: number;
  time: number;
  body: unknown[];
  priority?: MsgPriority;
}

/** A message IM accepted and then discarded: `MsgFreqCtrl` when the group was over its rate. */
export interface DroppedMessage {
  from: string;
  random: number;
  time: number;
  body: unknown[];
  priority: MsgPriority;
  reason: "MsgFreqCtrl";
}

export interface EmulatedGroup {
  groupId: string;
  type: string;
  name: string;
  owner?: string;
  destroyed: boolean;
  messages: EmulatedMessage[];
  dropped: DroppedMessage[];
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
  /** IM's frequency limits in force. */
  imLimits: ImLimitSettings;
  /** Every action served, in order (for tests counting calls); `code` is the IM ErrorCode of a refusal. */
  calls: { action: string; ok: boolean; code?: number }[];
}

/** What every service of the emulator shares: its options, its state and the armed faults. */
export interface EmulatorContext {
  options: EmulatorOptions;
  state: EmulatorState;
  signer: UserSigSigner;
  faults: Map<string, Fault>;
  /** Next message sequence number (groups and C2C share one counter). */
  nextSeq(): number;
}

export type Json = Record<string, unknown>;
export type ImReply = Json & { ActionStatus: "OK" | "FAIL"; ErrorCode: number; ErrorInfo: string };

export class ImFailure extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export class CloudFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const imOk = (fields: Json = {}): ImReply => ({ ActionStatus: "OK", ErrorInfo: "", ErrorCode: 0, ...fields });
export const imFail = (code: number, info: string): ImReply => ({ ActionStatus: "FAIL", ErrorInfo: info, ErrorCode: code });
export const nowSeconds = () => Math.floor(Date.now() / 1000);

/** The whole body of a request (the emulator's and the DynamoDB fault proxy's). */
export function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks)));
    request.on("error", reject);
  });
}

export function send(response: ServerResponse, status: number, body: unknown) {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify(body));
}
