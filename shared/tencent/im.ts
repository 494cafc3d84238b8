import { randomInt } from "node:crypto";
import { TencentError } from "./errors.js";
import { UserSigSigner } from "./usersig.js";

/** IM REST answers within 3 s server-side; give it a little more. */
export const imTimeoutMs = 3500;
/** The admin UserSig is reused for this long and renewed a day before it expires. */
const adminSigTtlSeconds = 7 * 86_400;

export interface ImClientOptions {
  baseUrl: string;
  sdkAppId: number;
  adminUser: string;
  signer: UserSigSigner;
}

/**
 * IM delivers High first and drops the others first when a live group is over its rate
 * (about 40 messages/s): state events are High, gift summaries Normal.
 */
export type MsgPriority = "High" | "Normal" | "Low" | "Lowest";

/**
 * IM's frequency refusals: 60007 (a REST command over its 200 calls/s), 60011/60018/60019
 * (the SDKAppID over its rate), 10023 (the group's send frequency) and a `MsgFreqCtrl` drop.
 */
export const frequencyErrorCodes = new Set(["60007", "60011", "60018", "60019", "10023", "MsgFreqCtrl"]);

export interface ImMessageBody {
  MsgType: "TIMCustomElem" | "TIMTextElem";
  MsgContent: Record<string, string>;
}

/** A custom element carrying JSON `data`, the shape onair's signalling messages use. */
export const customElem = (data: Record<string, unknown>, desc: string): ImMessageBody[] => [
  { MsgType: "TIMCustomElem", MsgContent: { Data: canonicalJson(data), Desc: desc, Ext: "" } },
];

/**
 * JSON with object keys sorted. An outbox entry's data comes back from DynamoDB with its keys
 * in another order; a resend must be the same content, or IM's de-duplication (same content,
 * same Random) lets a second copy through.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner && typeof inner === "object" && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : inner,
  );
}

/** Cloud IM server REST API as the app admin (reference §2). */
export class ImClient {
  private adminSig?: { userSig: string; renewAtSeconds: number };

  constructor(private readonly options: ImClientOptions) {}

  private adminUserSig(): string {
    const now = Math.floor(Date.now() / 1000);
    if (!this.adminSig || now >= this.adminSig.renewAtSeconds) {
      const issued = this.options.signer.issue(this.options.adminUser, adminSigTtlSeconds);
      this.adminSig = { userSig: issued.userSig, renewAtSeconds: issued.expiresAtSeconds - 86_400 };
    }
    return this.adminSig.userSig;
  }

  /** POST one command; resolves to the reply on `ActionStatus: OK`, throws `TencentError` otherwise. */
  async call<T extends Record<string, unknown> = Record<string, unknown>>(command: string, body: Record<string, unknown>): Promise<T> {
    const query = new URLSearchParams({
      sdkappid: String(this.options.sdkAppId),
      identifier: this.options.adminUser,
      usersig: this.adminUserSig(),
      random: String(randomInt(0, 2 ** 32 - 1)),
      contenttype: "json",
    });
    let reply: Record<string, unknown>;
    try {
      const response = await fetch(`${this.options.baseUrl}/v4/${command}?${query}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(imTimeoutMs),
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      reply = (await response.json()) as Record<string, unknown>;
    } catch (error) {
      throw new TencentError(command, "network", (error as Error).message, { cause: error });
    }
    if (reply.ActionStatus !== "OK" || Number(reply.ErrorCode ?? 0) !== 0) {
      throw new TencentError(command, String(reply.ErrorCode), String(reply.ErrorInfo ?? ""));
    }
    return reply as T;
  }

  accountImport(userId: string) {
    return this.call("im_open_login_svc/account_import", { UserID: userId });
  }

  createAvChatRoom(groupId: string, name: string, ownerId: string) {
    return this.call("group_open_http_svc/create_group", { Type: "AVChatRoom", GroupId: groupId, Name: name, Owner_Account: ownerId });
  }

  destroyGroup(groupId: string) {
    return this.call("group_open_http_svc/destroy_group", { GroupId: groupId });
  }

  /**
   * `random` makes a retry of the same message a duplicate IM drops (same content + Random within
   * 5 min). A message IM accepted and then dropped by frequency control did not reach the group:
   * it throws `TencentError` with code `MsgFreqCtrl` (the drop reason), as a refusal would.
   */
  async sendGroupMessage(groupId: string, body: ImMessageBody[], random: number, fromAccount?: string, priority?: MsgPriority) {
    const command = "group_open_http_svc/send_group_msg";
    const reply = await this.call<{ MsgSeq: number; MsgTime: number; MsgDropReason?: string }>(command, {
      GroupId: groupId,
      Random: random,
      MsgBody: body,
      ...(fromAccount ? { From_Account: fromAccount } : {}),
      ...(priority ? { MsgPriority: priority } : {}),
      // onair's own messages are already billed or are signalling: skip our before-send callback.
      ForbidCallbackControl: ["ForbidBeforeSendMsgCallback", "ForbidAfterSendMsgCallback"],
    });
    if (reply.MsgDropReason) throw new TencentError(command, reply.MsgDropReason, "IM dropped the message by frequency control");
    return reply;
  }

  sendC2CMessage(toAccount: string, body: ImMessageBody[], random: number) {
    return this.call<{ MsgKey: string }>("openim/sendmsg", {
      SyncOtherMachine: 2,
      To_Account: toAccount,
      MsgLifeTime: 60,
      MsgRandom: random,
      MsgBody: body,
    });
  }
}

/** IM error codes that mean "the group is already gone": destroying or telling it is done. */
export const groupGoneCodes = new Set(["10010", "10015"]);
