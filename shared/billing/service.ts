import { createHash, randomInt } from "node:crypto";
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { AppError, ConflictError, ForbiddenError, NotFoundError, UnprocessableError } from "../errors/index.js";
import type { Logger } from "../log/index.js";
import { outboxKey, runOutbox, type OutboxEntry } from "../outbox/index.js";
import { roomIdOfGroup, RoomStore, type Room } from "../rooms/index.js";
import type { TencentDeps } from "../tencent/index.js";
import { findGift, maxGiftCount, type Gift } from "./catalog.js";
import { chargeFor, idempotencyTtlSeconds, inFlightLeaseMs, WalletStore, type IdempotencyRecord } from "./store.js";

/** An HTTP answer to store and replay for an Idempotency-Key. */
export interface StoredAnswer {
  status: number;
  body: Record<string, unknown>;
  replayed: boolean;
  headers?: Record<string, string>;
}

/**
 * Before-send callback answers for gifts. 0 lets the message through; codes in IM's custom
 * range 10100–10200 reject it and reach the sender's client with the ErrorInfo text.
 */
export const giftRejections = {
  malformed: { code: 10101, info: "gift message is malformed: Data must be {\"type\":\"gift\",\"giftId\":string,\"count\":1-99}" },
  insufficientBalance: { code: 10102, info: "not enough coins for this gift" },
  roomNotLive: { code: 10103, info: "the room is not live" },
  unknownGift: { code: 10104, info: "no such gift" },
  ownRoom: { code: 10105, info: "hosts cannot send gifts in their own room" },
  unavailable: { code: 10199, info: "the gift could not be billed just now; please retry" },
} as const;

export interface CallbackVerdict {
  ErrorCode: number;
  ErrorInfo: string;
}

const allow: CallbackVerdict = { ErrorCode: 0, ErrorInfo: "" };
const reject = (rejection: { code: number; info: string }): CallbackVerdict => ({ ErrorCode: rejection.code, ErrorInfo: rejection.info });

/** IM's before-send callback times out after 2 s; billing must have answered well before. */
export const callbackBillingDeadlineMs = 1500;

const fingerprintOf = (value: unknown) => createHash("sha256").update(JSON.stringify(value)).digest("hex");

class PaymentRequiredError extends AppError {
  override readonly name = "PaymentRequiredError";
  constructor(message: string) {
    super(402, "insufficient_balance", message);
  }
}

export interface BillingDeps {
  wallets: WalletStore;
  rooms: RoomStore;
  tencent: TencentDeps;
  log: Logger;
}

/** Gift payload inside a TIMCustomElem's Data (README "Gifts"). */
export interface GiftPayload {
  type: "gift";
  giftId: string;
  count: number;
}

export class BillingService {
  constructor(private readonly deps: BillingDeps) {}

  private async liveRoomFor(roomId: number, senderId: string): Promise<Room> {
    const room = await this.deps.rooms.getRoom(roomId);
    if (!room) throw new NotFoundError("room_not_found", `room ${roomId} does not exist`);
    if (room.status !== "live") throw new ConflictError("room_not_live", `room ${roomId} is not live`);
    if (room.hostId === senderId) throw new ForbiddenError("cannot_gift_own_room", "hosts cannot send gifts in their own room");
    return room;
  }

  /**
   * Mode (b): the app asks onair to bill a gift and deliver its message. Idempotency-Key
   * semantics as payment APIs: the first answer is replayed for the same key and body, a
   * different body is 422, a repeat while the first is running is 409 with Retry-After.
   */
  async giftFromApp(senderId: string, request: { roomId: number; giftId: string; count: number }, key: string): Promise<StoredAnswer> {
    const scope = `app:${senderId}:${key}`;
    const fingerprint = fingerprintOf({ route: "POST /v1/wallet/gifts", ...request });
    const gift = findGift(request.giftId);
    let room: Room;
    try {
      if (!gift) throw new UnprocessableError("unknown_gift", `no gift ${request.giftId} in the catalog`);
      room = await this.liveRoomFor(request.roomId, senderId);
    } catch (error) {
      // A retry after the room closed must still get the first answer.
      const record = await this.deps.wallets.getIdempotency(scope);
      if (record) return this.replay(record, fingerprint);
      throw error;
    }
    const charge = chargeFor(gift!, request.count, senderId, room.hostId, room.roomId);
    const now = Date.now();
    const outbox: OutboxEntry = {
      entryId: `gift:${createHash("sha256").update(scope).digest("base64url").slice(0, 22)}`,
      roomId: room.roomId,
      command: {
        kind: "sendGroupMessage",
        groupId: room.groupId,
        desc: "gift",
        random: randomInt(0, 2 ** 32 - 1),
        data: { type: "gift", giftId: gift!.giftId, count: request.count, from: senderId, roomId: room.roomId, amount: charge.amount },
      },
    };
    const body = { roomId: room.roomId, giftId: gift!.giftId, count: request.count, amount: charge.amount, heat: charge.heat, delivery: "queued" };
    const record: Omit<IdempotencyRecord, "charge"> = {
      scope,
      fingerprint,
      status: "in_progress",
      response: { status: 201, body },
      createdAt: now,
      expiresAt: now + idempotencyTtlSeconds * 1000,
      outboxEntryId: outbox.entryId,
    };
    const result = await this.deps.wallets.bill(charge, record, outbox);
    if (result.outcome === "duplicate") {
      if (!result.record) throw new ConflictError("request_in_progress", "a request with this Idempotency-Key is in progress; retry shortly", { "retry-after": "1" });
      return this.replay(result.record, fingerprint);
    }
    if (result.outcome === "insufficient_balance") throw new PaymentRequiredError(`${charge.amount} coins needed for ${request.count} × ${gift!.giftId}`);
    if (result.outcome === "contended") throw new ConflictError("wallet_busy", "your wallet is busy with other gifts; retry shortly", { "retry-after": "1" });
    const { failed } = await runOutbox(this.deps.wallets.db, this.deps.tencent, [outbox], this.deps.log);
    const final = { status: 201, body: { ...body, ledgerId: result.ledgerId, delivery: failed.length === 0 ? "sent" : "queued" } };
    await this.deps.wallets.completeIdempotency(scope, final);
    return { ...final, replayed: false };
  }

  private async replay(record: IdempotencyRecord, fingerprint: string): Promise<StoredAnswer> {
    if (record.fingerprint !== fingerprint) {
      throw new UnprocessableError("idempotency_key_reused", "this Idempotency-Key was used with a different request");
    }
    if (record.status === "in_progress") {
      if (Date.now() - record.createdAt < inFlightLeaseMs) {
        throw new ConflictError("request_in_progress", "a request with this Idempotency-Key is in progress; retry shortly", { "retry-after": "1" });
      }
      // The first request died after billing: the charge stands; try its delivery again.
      const delivered = await this.retryDelivery(record.outboxEntryId);
      const response = { ...record.response, body: { ...record.response.body, delivery: delivered ? "sent" : "queued" } };
      await this.deps.wallets.completeIdempotency(record.scope, response).catch(() => undefined);
      return { ...response, replayed: true };
    }
    return { ...record.response, replayed: true };
  }

  private async retryDelivery(entryId: string | undefined): Promise<boolean> {
    if (!entryId) return true;
    const { Item } = await this.deps.wallets.db.doc.send(new GetCommand({ TableName: this.deps.wallets.db.table, Key: outboxKey(entryId), ConsistentRead: true }));
    if (!Item || Item.status === "done") return true;
    if (Item.status === "dead") return false;
    const { failed } = await runOutbox(this.deps.wallets.db, this.deps.tencent, [{ entryId, command: Item.command, roomId: Item.roomId }], this.deps.log, Number(Item.attempts ?? 0));
    return failed.length === 0;
  }

  /**
   * Mode (a): Group.CallbackBeforeSendMsg. A gift in a live room is billed and allowed; any
   * problem rejects it with a code the client can show. When billing cannot finish in time the
   * message is rejected (fail closed) and a charge that lands late is refunded.
   */
  async giftFromCallback(event: { GroupId?: unknown; From_Account?: unknown; Random?: unknown; MsgId?: unknown; MsgBody?: unknown }): Promise<CallbackVerdict> {
    const parsed = parseGiftMessage(event.MsgBody);
    if (parsed === "not_a_gift") return allow;
    if (parsed === "malformed") return reject(giftRejections.malformed);
    const gift = findGift(parsed.giftId);
    if (!gift) return reject(giftRejections.unknownGift);
    const senderId = typeof event.From_Account === "string" ? event.From_Account : "";
    const groupId = typeof event.GroupId === "string" ? event.GroupId : "";
    const roomId = roomIdOfGroup(groupId);
    if (!senderId || roomId === undefined) return reject(giftRejections.roomNotLive);
    // Set by the timer itself: once it fires, no charge may stand, whatever finishes next.
    const deadline = { passed: false };
    const work = this.billCallbackGift(Number(roomId), senderId, gift, parsed, event, deadline);
    const timeout = new Promise<"timeout">((resolve) =>
      setTimeout(() => {
        deadline.passed = true;
        resolve("timeout");
      }, callbackBillingDeadlineMs).unref(),
    );
    const first = await Promise.race([work, timeout]);
    if (first !== "timeout") return first;
    this.deps.log.warn("gift billing missed the callback deadline; rejecting", { roomId, senderId });
    // IM has (or will have) given up on us: a charge that still lands must be undone.
    await work.catch(() => undefined);
    return reject(giftRejections.unavailable);
  }

  private async billCallbackGift(
    roomId: number,
    senderId: string,
    gift: Gift,
    payload: GiftPayload,
    event: { GroupId?: unknown; Random?: unknown; MsgId?: unknown },
    deadline: { passed: boolean },
  ): Promise<CallbackVerdict> {
    try {
      const room = await this.deps.rooms.getRoom(roomId);
      // A group that only borrows a room's number is not that room.
      if (!room || room.status !== "live" || room.groupId !== event.GroupId) return reject(giftRejections.roomNotLive);
      if (room.hostId === senderId) return reject(giftRejections.ownRoom);
      // The message's identity: a redelivered callback carries the same group, sender, Random and MsgId.
      const scope = `im:${room.groupId}:${senderId}:${String(event.Random ?? "")}:${String(event.MsgId ?? "")}`;
      const fingerprint = fingerprintOf(payload);
      const charge = chargeFor(gift, payload.count, senderId, room.hostId, room.roomId);
      const now = Date.now();
      const result = await this.deps.wallets.bill(charge, {
        scope,
        fingerprint,
        status: "completed",
        response: { status: 200, body: { ErrorCode: 0 } },
        createdAt: now,
        expiresAt: now + idempotencyTtlSeconds * 1000,
      });
      if (result.outcome === "billed") {
        if (deadline.passed) {
          // Too late for IM: the message was not let through, so give the coins back.
          await this.deps.wallets.refund(scope, charge);
          this.deps.log.warn("late gift charge refunded", { roomId, senderId, amount: charge.amount });
          return reject(giftRejections.unavailable);
        }
        return allow;
      }
      if (result.outcome === "duplicate") {
        const record = result.record;
        if (!record || record.fingerprint !== fingerprint) return reject(giftRejections.unavailable);
        return record.status === "completed" ? allow : reject(giftRejections.unavailable);
      }
      if (result.outcome === "insufficient_balance") return reject(giftRejections.insufficientBalance);
      return reject(giftRejections.unavailable);
    } catch (error) {
      this.deps.log.error("gift billing failed; rejecting the message", { roomId, senderId, error });
      return reject(giftRejections.unavailable);
    }
  }
}

/** Find the gift in a message body: `not_a_gift` for anything else, `malformed` for a broken gift. */
export function parseGiftMessage(msgBody: unknown): GiftPayload | "not_a_gift" | "malformed" {
  if (!Array.isArray(msgBody)) return "not_a_gift";
  for (const element of msgBody) {
    if (typeof element !== "object" || element === null || (element as { MsgType?: unknown }).MsgType !== "TIMCustomElem") continue;
    const data = (element as { MsgContent?: { Data?: unknown } }).MsgContent?.Data;
    if (typeof data !== "string") continue;
    let payload: unknown;
    try {
      payload = JSON.parse(data);
    } catch {
      continue; // custom data that is not JSON is some other kind of message
    }
    if (typeof payload !== "object" || payload === null || (payload as { type?: unknown }).type !== "gift") continue;
    const { giftId, count, ...rest } = payload as { giftId?: unknown; count?: unknown; type: string };
    const extra = Object.keys(rest).filter((field) => field !== "type");
    if (typeof giftId !== "string" || giftId.length === 0 || giftId.length > 64) return "malformed";
    if (typeof count !== "number" || !Number.isInteger(count) || count < 1 || count > maxGiftCount) return "malformed";
    if (extra.length > 0) return "malformed";
    return { type: "gift", giftId, count };
  }
  return "not_a_gift";
}
