import { randomInt, randomUUID } from "node:crypto";
import type { Db } from "../db/index.js";
import type { Logger } from "../log/index.js";
import { runPooled } from "../pool/index.js";
import { customElem, frequencyErrorCodes, groupGoneCodes, isTencentError, type ImClient } from "../tencent/index.js";
import { aggregate, priorityOf, type PendingGift } from "./message.js";
import { BroadcastStore, giftKeyOfSk, pendingGiftKey, type FlushState, type InflightBatch } from "./store.js";

export interface BroadcastSettings {
  /** Shortest time between two gift messages of one room. @default 500 */
  intervalMs: number;
  /** A billed gift worth at least this many coins makes its message High. @default 1000 */
  highPriorityCoins: number;
}

/** What the app is told about a gift's broadcast. */
export type Delivery = "sent" | "queued" | "undelivered";

/** Back-pressure doubles a room's interval up to this; each message that gets through takes a quarter off. */
export const maxIntervalMs = 8_000;
/** A flusher's hold on a room: a crashed one's is taken over after this (longer than IM's 3 s answer). */
export const flushLeaseMs = 5_000;
/** How long a gift's request waits for the broadcast that carries it before answering `queued`. */
export const deliveryWaitMs = 1_500;
/** Gifts read per shard for one message (4 shards: more than one 10 KB message holds). */
const readPerShard = 100;
/** IM refusing one message this often in a row (frequency limits aside) gives it up, so it cannot hold the room's close forever. */
export const maxRefusals = 5;
/** After a refusal or a lost answer, a request's loop keeps flushing this long, so its gift does not wait for the sweeper. */
const retryAfterTroubleMs = 10_000;
/** How long the one-transaction settle of a delivered message may take before it is done step by step. */
const settleBudgetMs = 1_000;

interface Room {
  roomId: number;
  groupId: string;
}

type FlushOutcome = "sent" | "refused" | "unknown" | "empty" | "lost";
/** A flush's outcome, and when the room's next message is due after it. */
type Flushed = { outcome: FlushOutcome; nextSendAt?: number };

/**
 * Room broadcasts: each billed gift waits in DynamoDB (written by its charge), and one group
 * message per room per interval carries every gift since the last one. Any instance may flush a
 * room; a lease on the room's flush state makes them take turns, and the message being sent is
 * recorded before it is sent, so whoever comes next resends exactly it (same content, same
 * Random: IM keeps one) before taking new gifts. A gift leaves the pending set only after a
 * message carrying it reached the group, so none is lost and none is sent twice.
 *
 * One instance of this class per function instance: gifts of one room billed by this instance
 * share one flush loop.
 */
export class Broadcaster {
  readonly store: BroadcastStore;
  /** This instance; each flush loop holds the lease as `<instance>:<n>`, so two loops here never share it. */
  private readonly instance = randomUUID();
  private loopsStarted = 0;
  private readonly loops = new Map<number, { waiters: Map<string, (delivery: Delivery) => void>; keepUntil: number }>();

  /** `onSent`: called with the gift keys each delivered message carried (the bench's delay). */
  constructor(private readonly deps: { db: Db; im: ImClient; log: Logger; settings: BroadcastSettings; onSent?: (roomId: number, giftKeys: string[]) => void }) {
    this.store = new BroadcastStore(deps.db);
  }

  /** A billed gift's pending broadcast, for the charge's transaction. */
  pendingPut(room: Room, gift: PendingGift) {
    return this.store.pendingGiftPut(room.roomId, room.groupId, gift);
  }

  /**
   * After a gift's charge committed: `sent` once a message carrying it reached the group (this
   * instance's flush), else `queued` within `waitMs` (another instance's message carries it, or
   * the next one will).
   */
  deliver(room: Room, giftKey: string, waitMs = deliveryWaitMs): Promise<Delivery> {
    return new Promise<Delivery>((resolve) => {
      const timer = setTimeout(() => settle("queued"), waitMs);
      const settle = (delivery: Delivery) => {
        clearTimeout(timer);
        loop?.waiters.delete(giftKey);
        resolve(delivery);
      };
      let loop = this.loops.get(room.roomId);
      if (loop) {
        loop.waiters.set(giftKey, settle);
        return;
      }
      loop = { waiters: new Map([[giftKey, settle]]), keepUntil: 0 };
      this.loops.set(room.roomId, loop);
      const running = loop;
      // Whether gifts still wait and the loop's end are decided in one step, so a gift that
      // arrives as the loop ends starts it again instead of missing it.
      const finish = (): Promise<void> | void => {
        if (running.waiters.size > 0) return run();
        this.loops.delete(room.roomId);
      };
      // A refused or unanswered message keeps the loop going a while after its requests answered `queued`.
      const more = () => running.waiters.size > 0 || Date.now() < running.keepUntil;
      const onOutcome = (outcome: FlushOutcome) => {
        if (outcome === "refused" || outcome === "unknown") running.keepUntil = Date.now() + retryAfterTroubleMs;
      };
      const run = (): Promise<void> =>
        this.flushWhile(room, more, undefined, onOutcome).then(finish, (error) => {
          this.deps.log.warn("gift broadcast failed; the next flush or the sweeper sends it", { roomId: room.roomId, error });
          this.loops.delete(room.roomId);
          for (const waiter of running.waiters.values()) waiter("queued");
        });
      void run();
    });
  }

  /**
   * The sweeper's part: rooms whose gifts waited past `leftoverAfterMs` (their flusher died, or
   * IM kept refusing) are flushed, `concurrency` at a time, none started after `stopStartingAt`.
   */
  async flushLeftovers(nowMs: number, options: { concurrency?: number; stopStartingAt?: number } = {}): Promise<{ rooms: number; emptied: number }> {
    const { concurrency = 8, stopStartingAt = Infinity } = options;
    const rooms = await this.store.roomsWithLeftovers(nowMs);
    let emptied = 0;
    await runPooled(
      rooms,
      concurrency,
      async (room) => {
        try {
          if (await this.flushAll(room, Math.min(stopStartingAt, Date.now() + flushLeaseMs))) emptied++;
        } catch (error) {
          this.deps.log.error("could not flush a room's leftover gifts; the next run retries", { roomId: room.roomId, error });
        }
      },
      stopStartingAt,
    );
    return { rooms: rooms.length, emptied };
  }

  /**
   * Send everything pending in the room (a close, the sweeper), taking turns with other
   * flushers. True once nothing is pending; false when `deadlineMs` came first.
   */
  async flushAll(room: Room, deadlineMs: number): Promise<boolean> {
    let empty = false;
    await this.flushWhile(room, () => !empty && Date.now() < deadlineMs, () => (empty = true));
    return empty;
  }

  private async flushWhile(room: Room, more: () => boolean, onEmpty?: () => void, onOutcome?: (outcome: FlushOutcome) => void): Promise<void> {
    const owner = `${this.instance}:${++this.loopsStarted}`;
    /** Refused the lease last time: look before asking again (a read, where a refusal costs a write). */
    let refused = false;
    /** Another flusher's turn, or the room's interval: a little jitter keeps instances apart. */
    const waitUntil = (at: number, now: number) => sleep(Math.min(1_000, Math.max(20, at - now)) + randomInt(0, 20));
    while (more()) {
      let now = Date.now();
      if (refused) {
        const nextTurn = await this.store.nextTurn(room.roomId, now, this.deps.settings.intervalMs);
        if (nextTurn > now) {
          await waitUntil(nextTurn, now);
          continue;
        }
        now = Date.now();
      }
      const turn = await this.store.acquire(room.roomId, owner, now, flushLeaseMs, this.deps.settings.intervalMs);
      refused = "retryAt" in turn;
      if ("retryAt" in turn) {
        await waitUntil(turn.retryAt, now);
        continue;
      }
      // Only gifts waiting before the read can have been carried already; a later one starts the loop again.
      const waitingBefore = [...(this.loops.get(room.roomId)?.waiters.values() ?? [])];
      const { outcome, nextSendAt } = await this.flushOnce(room, owner, turn.state);
      onOutcome?.(outcome);
      if (outcome === "empty") {
        // Nothing left: a gift that waited here was carried by another instance's message.
        for (const waiter of waitingBefore) waiter("queued");
        onEmpty?.();
        return;
      }
      // The room's next message is not due before then: asking for the lease sooner is only refused
      // (a second at most, so a caller's deadline is still looked at).
      if (nextSendAt !== undefined && more()) await sleep(Math.min(1_000, Math.max(0, nextSendAt - Date.now())));
    }
  }

  /** One message under the lease: the unsettled one again, or the pending gifts. */
  private async flushOnce(room: Room, owner: string, state: FlushState): Promise<Flushed> {
    const intervalMs = Math.max(this.deps.settings.intervalMs, Number(state.intervalMs ?? 0));
    let batch = state.inflight;
    if (batch?.delivered) {
      // IM accepted it before its flusher stopped: settle it, never resend it.
      await this.store.deleteGifts(room.roomId, batch.gifts);
      const after = { nextSendAt: Date.now() + intervalMs, intervalMs };
      await this.store.settleBatch(room.roomId, owner, batch.id, after);
      this.resolve(room.roomId, batch, "sent");
      return { outcome: "sent", nextSendAt: after.nextSendAt };
    }
    if (!batch) {
      const pending = await this.store.pending(room.roomId, readPerShard);
      if (pending.length === 0) {
        await this.store.release(room.roomId, owner);
        return { outcome: "empty" };
      }
      const { message, taken } = aggregate(room.roomId, pending);
      batch = {
        id: randomUUID(),
        random: randomInt(0, 2 ** 32 - 1),
        message,
        priority: priorityOf(taken, this.deps.settings.highPriorityCoins),
        gifts: taken.map((gift) => pendingGiftKey(room.roomId, gift.giftKey, gift.createdAt).sk),
      };
      if (!(await this.store.startBatch(room.roomId, owner, batch, Date.now(), flushLeaseMs))) return { outcome: "lost" };
    }
    return this.send(room, owner, batch, intervalMs, Number(state.refusals ?? 0));
  }

  private async send(room: Room, owner: string, batch: InflightBatch, intervalMs: number, refusals: number): Promise<Flushed> {
    const next = (interval: number) => ({ nextSendAt: Date.now() + interval, intervalMs: interval });
    /** Settle the message as `outcome`, the room's next one due `interval` from now. */
    const settle = async (outcome: FlushOutcome, interval: number, options?: { keepBatch?: boolean; refused?: boolean }): Promise<Flushed> => {
      const after = next(interval);
      await this.store.settleBatch(room.roomId, owner, batch.id, after, options);
      return { outcome, nextSendAt: after.nextSendAt };
    };
    try {
      await this.deps.im.sendGroupMessage(room.groupId, customElem({ ...batch.message }, "gifts"), batch.random, undefined, batch.priority);
    } catch (error) {
      if (isTencentError(error) && groupGoneCodes.has(error.code)) {
        // The group is gone (the room closed and was destroyed): these gifts can reach no one.
        this.deps.log.warn("gift broadcast undeliverable: the group is gone", { roomId: room.roomId, gifts: batch.gifts.length });
        await this.store.deleteGifts(room.roomId, batch.gifts);
        const settled = await settle("refused", intervalMs);
        this.resolve(room.roomId, batch, "undelivered");
        return settled;
      }
      const backedOff = Math.min(maxIntervalMs, intervalMs * 2);
      if (isTencentError(error) && error.code !== "network") {
        // Refused or dropped: not delivered. The gifts stay pending and join the next, later message.
        if (frequencyErrorCodes.has(error.code)) {
          this.deps.log.info("IM frequency limit: gift broadcasts slow down", { roomId: room.roomId, code: error.code, intervalMs: backedOff });
          return settle("refused", backedOff);
        }
        if (refusals + 1 >= maxRefusals) {
          // The same oldest gifts lead every message, so one IM will not take would block the room (and its close) for good.
          this.deps.log.error("IM kept refusing a gift broadcast; its gifts are given up (they stay billed)", { roomId: room.roomId, gifts: batch.gifts, error });
          await this.store.deleteGifts(room.roomId, batch.gifts);
          const settled = await settle("refused", backedOff);
          this.resolve(room.roomId, batch, "undelivered");
          return settled;
        }
        this.deps.log.warn("IM refused a gift broadcast; its gifts join the next one", { roomId: room.roomId, error });
        return settle("refused", backedOff, { refused: true });
      }
      // No answer: it may have arrived. The same message is resent as it is, and IM keeps one copy.
      this.deps.log.warn("gift broadcast unanswered; it is resent unchanged", { roomId: room.roomId, error });
      return settle("unknown", backedOff, { keepBatch: true });
    }
    const delivered = next(Math.max(this.deps.settings.intervalMs, Math.round(intervalMs * 0.75)));
    if (!(await this.store.settleDelivered(room.roomId, owner, batch, delivered, Date.now() + settleBudgetMs))) {
      // Recorded before the deletes: a flusher stopped after this point settles the message without resending it.
      await this.store.markDelivered(room.roomId, owner, batch.id);
      await this.store.deleteGifts(room.roomId, batch.gifts);
      await this.store.settleBatch(room.roomId, owner, batch.id, delivered);
    }
    this.resolve(room.roomId, batch, "sent");
    this.deps.onSent?.(room.roomId, batch.gifts.map(giftKeyOfSk));
    return { outcome: "sent", nextSendAt: delivered.nextSendAt };
  }

  private resolve(roomId: number, batch: InflightBatch, delivery: Delivery) {
    const waiters = this.loops.get(roomId)?.waiters;
    if (!waiters) return;
    for (const sk of batch.gifts) waiters.get(giftKeyOfSk(sk))?.(delivery);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
