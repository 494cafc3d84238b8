import { GetCommand } from "../db/commands.js";
import { isUnresolvedWrite } from "../db/index.js";
import { AppError, ConflictError, ForbiddenError, NotFoundError, StoreUnavailableError, UnprocessableError } from "../errors/index.js";
import { completeRecord, fingerprintOf, getRecord, newRecord, replayOf, requestInProgress, type IdempotencyRecord } from "../idempotency/index.js";
import type { Broadcaster } from "../broadcasts/index.js";
import type { Logger } from "../log/index.js";
import { outboxKey, outboxPut, runOutbox, type OutboxEntry } from "../outbox/index.js";
import { roomIdOfGroup, RoomStore, type Room } from "../rooms/index.js";
import type { TencentDeps } from "../tencent/index.js";
import { findGift, maxGiftCount, type Gift } from "./catalog.js";
import { chargeFor, movementId, WalletStore, type DeliveryOutcome } from "./store.js";

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
  severalGifts: { code: 10106, info: "one gift per message: send each gift as its own message" },
  unidentified: { code: 10107, info: "the gift message has no MsgId, so it cannot be billed; nothing was charged" },
  unavailable: { code: 10199, info: "the gift could not be billed just now; please retry" },
} as const;

export interface CallbackVerdict {
  ErrorCode: number;
  ErrorInfo: string;
}

const allow: CallbackVerdict = { ErrorCode: 0, ErrorInfo: "" };
const reject = (rejection: { code: number; info: string }): CallbackVerdict => ({ ErrorCode: rejection.code, ErrorInfo: rejection.info });

/**
 * IM's before-send callback times out 2 s after IM sent it (cold start, network and reply
 * included). Billing must be settled this long after `RequestTime`, leaving 0.5 s for the reply.
 */
export const callbackBillingDeadlineMs = 1500;
/**
 * How long a callback gift's charge waits for IM's delivery report before it goes back. IM sends
 * Group.CallbackAfterSendMsg as it delivers; this leaves room for its retries on timeout.
 */
export const deliveryConfirmWindowMs = 120_000;
/** A delivery report keeps trying to land until this long after IM sent it, inside IM's 2 s. */
const reportBudgetMs = 1_800;
/** A report that could not land is answered this long after it arrived, past IM's 2 s, so IM counts a timeout and retries (when set to). */
const reportGiveUpMs = 2_100;

/**
 * When a callback's verdict must be settled: `callbackBillingDeadlineMs` after IM sent it. IM's
 * `RequestTime` is whole seconds, so the earliest moment it can mean is used; a clock that reads
 * it in the future falls back to the handler's own start.
 */
export function callbackDeadline(requestTimeSeconds: number | undefined, nowMs: number): number {
  return callbackSentAt(requestTimeSeconds, nowMs) + callbackBillingDeadlineMs;
}

/** When IM sent a callback, by its `RequestTime` (the earliest moment it can mean; never later than now). */
function callbackSentAt(requestTimeSeconds: number | undefined, nowMs: number): number {
  return requestTimeSeconds !== undefined && Number.isFinite(requestTimeSeconds) ? Math.min(requestTimeSeconds * 1000, nowMs) : nowMs;
}

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
  /** The function instance's room broadcasts (app gifts' messages). */
  broadcaster: Broadcaster;
}

/** Gift payload inside a TIMCustomElem's Data (README "Gifts"). */
export interface GiftPayload {
  type: "gift";
  giftId: string;
  count: number;
}

/** Host and group of rooms seen live by this instance (they never change; liveness is checked by the charge). */
const knownRooms = new Map<number, Pick<Room, "roomId" | "hostId" | "groupId" | "status">>();

/**
 * Whether a room, as read, takes gifts: live and no close begun. A room never goes back to live;
 * a close that began after the read is caught by the charge's condition on its counter shard.
 */
const takesGifts = (room: Pick<Room, "status" | "closingAt">) => room.status === "live" && room.closingAt === undefined;

export class BillingService {
  constructor(private readonly deps: BillingDeps) {}

  private async liveRoomFor(roomId: number, senderId: string): Promise<Room> {
    const room = await this.deps.rooms.getRoom(roomId);
    if (!room) throw new NotFoundError("room_not_found", `room ${roomId} does not exist`);
    if (!takesGifts(room)) throw new ConflictError("room_not_live", `room ${roomId} is not live`);
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
      const record = await getRecord(this.deps.wallets.db, scope);
      if (record) return this.replay(record, fingerprint);
      throw error;
    }
    const charge = chargeFor(gift!, request.count, senderId, room.hostId, room.roomId);
    const now = Date.now();
    // The record's time in the key: a key reused after its record expired bills a new gift, with its own broadcast.
    const giftKey = movementId(scope, now);
    const pending = { giftKey, from: senderId, giftId: gift!.giftId, count: request.count, value: charge.amount, createdAt: now };
    const body = { roomId: room.roomId, giftId: gift!.giftId, count: request.count, amount: charge.amount, heat: charge.heat, delivery: "queued" };
    const record = newRecord(scope, { route: "POST /v1/wallet/gifts", ...request }, "in_progress", { status: 201, body }, now);
    let result: Awaited<ReturnType<WalletStore["bill"]>>;
    try {
      // The broadcast is written with the charge: a billed gift never lacks its broadcast.
      result = await this.deps.wallets.bill(charge, record, { broadcast: this.deps.broadcaster.pendingPut(room, pending) });
    } catch (error) {
      if (!isUnresolvedWrite(error)) throw error;
      // Did it commit? The record says; when even that read fails, the client retries with the key.
      const stored = await getRecord(this.deps.wallets.db, scope).catch(() => undefined);
      if (!stored || stored.createdAt !== now) throw new StoreUnavailableError(error);
      result = { outcome: "billed", ledgerId: movementId(scope, now) };
    }
    if (result.outcome === "duplicate") {
      if (!result.record) throw requestInProgress();
      return this.replay(result.record, fingerprint);
    }
    if (result.outcome === "insufficient_balance") throw new PaymentRequiredError(`${charge.amount} coins needed for ${request.count} × ${gift!.giftId}`);
    if (result.outcome === "room_not_live") throw new ConflictError("room_not_live", `room ${room.roomId} is not live`);
    if (result.outcome === "contended") throw new ConflictError("wallet_busy", "your wallet is busy with other gifts; retry shortly", { "retry-after": "1" });
    // "sent" only when a room broadcast carrying it reached the group; "queued" when the room's next one will carry it.
    const delivery = await this.deps.broadcaster.deliver(room, giftKey);
    const final = { status: 201, body: { ...body, ledgerId: result.ledgerId, delivery } };
    // A failure here leaves the record in progress; a retry after its lease replays "billed" and retries the delivery.
    await completeRecord(this.deps.wallets.db, scope, final).catch((error) => this.deps.log.warn("could not complete an idempotency record", { scope, error }));
    return { ...final, replayed: false };
  }

  private async replay(record: IdempotencyRecord, fingerprint: string): Promise<StoredAnswer> {
    const outcome = replayOf(record, fingerprint);
    if (outcome !== "stale") return { ...outcome.answer, replayed: true };
    // The first request died after billing: the charge stands; try its delivery again.
    const delivery = await this.retryDelivery(record.outboxEntryId);
    const response = { ...record.response, body: { ...record.response.body, delivery } };
    await completeRecord(this.deps.wallets.db, record.scope, response).catch(() => undefined);
    return { ...response, replayed: true };
  }

  private async retryDelivery(entryId: string | undefined): Promise<"sent" | "queued" | "undelivered"> {
    // No entry of its own: the gift waits in its room's broadcasts, or went out in one.
    if (!entryId) return "queued";
    const { Item } = await this.deps.wallets.db.doc.send(new GetCommand({ TableName: this.deps.wallets.db.table, Key: outboxKey(entryId), ConsistentRead: true }));
    if (!Item) return "sent";
    if (Item.status === "done") return Item.undelivered === true ? "undelivered" : "sent";
    if (Item.status === "dead") return "queued";
    const { failed, undelivered } = await runOutbox(this.deps.wallets.db, this.deps.tencent, [{ entryId, command: Item.command, roomId: Item.roomId }], this.deps.log, Number(Item.attempts ?? 0));
    return failed.length > 0 ? "queued" : undelivered.length > 0 ? "undelivered" : "sent";
  }

  /**
   * Mode (a): Group.CallbackBeforeSendMsg. A gift in a live room is charged and allowed; any
   * problem rejects it with a code the client can show. The charge is provisional until IM
   * reports the message delivered (`confirmCallbackGift`, from Group.CallbackAfterSendMsg): its
   * refund is written beside it, due `deliveryConfirmWindowMs` later, and only that report calls
   * it off. So whatever IM does with a late or lost answer (README "Gifts in the IM before-send
   * callback"), a charge stands exactly when its message went out.
   */
  async giftFromCallback(
    event: { GroupId?: unknown; From_Account?: unknown; Random?: unknown; MsgId?: unknown; MsgBody?: unknown },
    requestTimeSeconds?: number,
  ): Promise<CallbackVerdict> {
    const deadline = callbackDeadline(requestTimeSeconds, Date.now());
    const parsed = parseGiftMessage(event.MsgBody);
    if (parsed === "not_a_gift") return allow;
    if (parsed === "malformed") return reject(giftRejections.malformed);
    if (parsed === "several_gifts") return reject(giftRejections.severalGifts);
    const gift = findGift(parsed.giftId);
    if (!gift) return reject(giftRejections.unknownGift);
    const senderId = typeof event.From_Account === "string" ? event.From_Account : "";
    const groupId = typeof event.GroupId === "string" ? event.GroupId : "";
    const roomId = roomIdOfGroup(groupId);
    if (!senderId || roomId === undefined) return reject(giftRejections.roomNotLive);
    try {
      return await this.billCallbackGift(roomId, senderId, gift, parsed, groupId, event.MsgId, deadline);
    } catch (error) {
      this.deps.log.error("gift billing failed; rejecting the message", { roomId, senderId, error });
      return reject(giftRejections.unavailable);
    }
  }

  /**
   * The room of a callback gift. Its host and group never change, so a warm instance keeps them
   * and spends IM's 2 s on the charge. That it is live comes from this read (a room never goes
   * back to live); that it is not closing is a condition of the charge itself.
   */
  private async roomOf(roomId: number): Promise<Pick<Room, "roomId" | "hostId" | "groupId" | "status" | "closingAt"> | undefined> {
    const known = knownRooms.get(roomId);
    if (known) return known;
    const room = await this.deps.rooms.getRoom(roomId, true);
    if (room?.status === "live") {
      if (knownRooms.size >= 10_000) knownRooms.clear();
      knownRooms.set(roomId, { roomId, hostId: room.hostId, groupId: room.groupId, status: "live" });
    }
    return room;
  }

  private async billCallbackGift(roomId: number, senderId: string, gift: Gift, payload: GiftPayload, groupId: string, messageId: unknown, deadline: number): Promise<CallbackVerdict> {
    const room = await this.roomOf(roomId);
    // A group that only borrows a room's number is not that room.
    if (!room || !takesGifts(room) || room.groupId !== groupId) return reject(giftRejections.roomNotLive);
    if (room.hostId === senderId) return reject(giftRejections.ownRoom);
    // IM assigns MsgId, and its delivery report names the message by it. Random is the sender's
    // client's choice and proves nothing, so a gift without a MsgId cannot be billed safely.
    if (typeof messageId !== "string" || messageId === "") return reject(giftRejections.unidentified);
    if (Date.now() >= deadline) return reject(giftRejections.unavailable);
    const scope = callbackGiftScope(groupId, messageId);
    const request = { senderId, ...payload };
    const charge = chargeFor(gift, payload.count, senderId, room.hostId, room.roomId);
    const now = Date.now();
    const refund: OutboxEntry = { entryId: `refund:${movementId(scope, now)}`, roomId: room.roomId, command: { kind: "refundGift", scope } };
    let result: Awaited<ReturnType<WalletStore["bill"]>>;
    try {
      result = await this.deps.wallets.bill(
        charge,
        newRecord(scope, request, "charged", { status: 200, body: {} }, now, { outboxEntryId: refund.entryId }),
        // Whatever happens to this handler or to IM's answer, a charge whose message never went out goes back.
        { refund: outboxPut(this.deps.wallets.db, refund, now, now + deliveryConfirmWindowMs) },
        deadline,
      );
    } catch (error) {
      if (!isUnresolvedWrite(error)) throw error;
      this.deps.log.warn("gift charge unresolved at the callback deadline; rejecting (a charge that stood goes back unless IM delivers the message)", { roomId, senderId });
      return reject(giftRejections.unavailable);
    }
    if (result.outcome === "duplicate") {
      // The same message again (IM never repeats a before-send callback; a replay gets the first answer).
      const record = result.record;
      return record && ["charged", "delivered", "allowed"].includes(record.status) && record.fingerprint === fingerprintOf(request) ? allow : reject(giftRejections.unavailable);
    }
    if (result.outcome === "insufficient_balance") return reject(giftRejections.insufficientBalance);
    if (result.outcome === "room_not_live") return reject(giftRejections.roomNotLive);
    if (result.outcome === "contended") return reject(giftRejections.unavailable);
    return allow;
  }

  /**
   * Group.CallbackAfterSendMsg: IM delivered a message. A gift's charge becomes final and its
   * refund is called off. The write keeps trying for as long as IM waits (budgeted from
   * `RequestTime`); when it still cannot land, the answer is held past IM's 2 s before failing,
   * because IM retries an after-send callback only on a timeout (README). The refund waits
   * `deliveryConfirmWindowMs` for those retries.
   */
  async confirmCallbackGift(event: { GroupId?: unknown; MsgId?: unknown; MsgBody?: unknown; From_Account?: unknown }, requestTimeSeconds?: number): Promise<DeliveryOutcome | "not_a_gift"> {
    const parsed = parseGiftMessage(event.MsgBody);
    if (typeof parsed !== "object" || typeof event.GroupId !== "string" || typeof event.MsgId !== "string" || event.MsgId === "") return "not_a_gift";
    const arrivedAt = Date.now();
    const sentAt = callbackSentAt(requestTimeSeconds, arrivedAt);
    let outcome: DeliveryOutcome;
    try {
      outcome = await this.deps.wallets.confirmDelivery(callbackGiftScope(event.GroupId, event.MsgId), sentAt + reportBudgetMs);
    } catch (error) {
      this.deps.log.error("could not record IM's delivery report; holding the answer so IM retries on timeout", { groupId: event.GroupId, msgId: event.MsgId, error });
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, arrivedAt + reportGiveUpMs - Date.now())));
      throw error;
    }
    if (outcome === "refunded_before_confirmation") this.deps.log.error("IM delivered a gift whose charge had already gone back (its delivery report came too late)", { groupId: event.GroupId, msgId: event.MsgId });
    if (outcome === "never_charged") this.deps.log.warn("IM delivered a gift that was never charged (IM let it through on a late or failed callback)", { groupId: event.GroupId, msgId: event.MsgId, senderId: event.From_Account });
    return outcome;
  }
}

/** The idempotency scope of one IM message's gift. */
const callbackGiftScope = (groupId: string, messageId: string) => `im:${groupId}:${messageId}`;

/**
 * Find the gift in a message body: `not_a_gift` for anything else, `malformed` for a broken gift,
 * `several_gifts` when more than one element is a gift (each must be billed, so such a message is refused).
 */
export function parseGiftMessage(msgBody: unknown): GiftPayload | "not_a_gift" | "malformed" | "several_gifts" {
  if (!Array.isArray(msgBody)) return "not_a_gift";
  const found: (GiftPayload | "malformed")[] = [];
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
    found.push(giftPayloadOf(payload as Record<string, unknown>));
  }
  if (found.length === 0) return "not_a_gift";
  if (found.length > 1) return "several_gifts";
  return found[0]!;
}

function giftPayloadOf(payload: Record<string, unknown>): GiftPayload | "malformed" {
  const { giftId, count, ...rest } = payload;
  const extra = Object.keys(rest).filter((field) => field !== "type");
  if (typeof giftId !== "string" || giftId.length === 0 || giftId.length > 64) return "malformed";
  if (typeof count !== "number" || !Number.isInteger(count) || count < 1 || count > maxGiftCount) return "malformed";
  if (extra.length > 0) return "malformed";
  return { type: "gift", giftId, count };
}
