import { randomInt, randomUUID } from "node:crypto";
import type { Db } from "../db/index.js";
import type { Logger } from "../log/index.js";
import { runPooled } from "../pool/index.js";
import { customElem, frequencyErrorCodes, groupGoneCodes, isTencentError, type ImClient } from "../tencent/index.js";
import { aggregate, priorityOf, type PendingGift } from "./message.js";
import { BroadcastStore, giftKeyOfSk, pendingGiftKey, type FlushChange, type FlushState, type InflightBatch } from "./store.js";

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
/** After a refusal, a lost answer or failed deletes, a request's loop keeps flushing this long, so its gift does not wait for the sweeper. */
const retryAfterTroubleMs = 10_000;
/** How much later than the room's last claimer another instance takes the room's turn. */
const handoffMs = 200;

interface Room {
  roomId: number;
  groupId: string;
}

/** `unsettled`: IM took the message but its gifts' deletes failed (recorded as delivered, deleted on the next turn). */
type FlushOutcome = "sent" | "unsettled" | "refused" | "unknown" | "empty";
/** A flush's outcome, and when the room's next message is due after it. */
type Flushed = { outcome: FlushOutcome; nextSendAt?: number; othersGifts?: boolean };

/**
 * Room broadcasts: each billed gift waits in DynamoDB (written by its charge), and one group
 * message per room per interval carries every gift since the last one. Any instance may flush a
 * room: it claims the pending gifts by recording the message on the room's flush state, in one
 * write conditioned on the state's version, and settles the message by deleting its gifts. A
 * message is unsettled while any of its gifts is pending: no one claims new gifts until it is
 * settled, and whoever finds it after its flusher stopped resends exactly it (same content, same
 * Random: IM keeps one) or, if IM took it, finishes its deletes. A gift leaves the pending set
 * only after a message carrying it reached the group, so none is lost and none is sent twice.
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
      const onOutcome = ({ outcome, othersGifts }: Flushed) => {
        if (outcome === "refused" || outcome === "unknown" || outcome === "unsettled") running.keepUntil = Date.now() + retryAfterTroubleMs;
        // Other instances have gifts here: the room's last claimer takes its next turn too, carrying theirs, so they need not meet at it.
        else if (outcome === "sent" && othersGifts) running.keepUntil = Math.max(running.keepUntil, Date.now() + 2 * this.deps.settings.intervalMs);
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

  private async flushWhile(room: Room, more: () => boolean, onEmpty?: () => void, onOutcome?: (flushed: Flushed) => void): Promise<void> {
    const owner = `${this.instance}:${++this.loopsStarted}`;
    /** The flush state a refused write answered with: decided on again without a read. */
    let known: { state: FlushState | undefined } | undefined;
    /** Another flusher's turn, or the room's interval: a little jitter keeps instances apart. */
    const waitUntil = (at: number) => sleep(Math.min(1_000, Math.max(20, at - Date.now())) + randomInt(0, 30));
    while (more()) {
      const state = known ? known.state : await this.store.flushState(room.roomId);
      known = undefined;
      // The room's last claimer (any loop of its instance) goes first at its next turn; the others
      // look a little later, so instances meeting at a busy room's turn do not all read its gifts
      // and try to claim them.
      const othersTurn = state?.owner !== undefined && !state.owner.startsWith(`${this.instance}:`);
      const turnAt = Number(state?.nextSendAt ?? 0) + (othersTurn ? handoffMs : 0);
      if (turnAt > Date.now()) {
        await waitUntil(turnAt);
        continue;
      }
      // Only gifts waiting before the read can have been carried already; a later one starts the loop again.
      const waitingBefore = [...(this.loops.get(room.roomId)?.waiters.values() ?? [])];
      const flushed = await this.flushOnce(room, owner, state);
      if (flushed.outcome === "busy") {
        await waitUntil(flushed.retryAt);
        continue;
      }
      if (flushed.outcome === "lost") {
        known = { state: flushed.current };
        continue;
      }
      onOutcome?.(flushed);
      if (flushed.outcome === "empty") {
        // Nothing left: a gift that waited here was carried by another instance's message.
        for (const waiter of waitingBefore) waiter("queued");
        onEmpty?.();
        return;
      }
      // The room's next message is not due before then: reading sooner only finds that out
      // (a second at most, so a caller's deadline is still looked at).
      if (flushed.nextSendAt !== undefined && more()) await sleep(Math.min(1_000, Math.max(0, flushed.nextSendAt - Date.now())));
    }
  }

  /**
   * One step for the room, decided from its flush state and a read of its pending gifts: finish
   * the last message if its flusher stopped, wait while a live one holds it, or claim the pending
   * gifts for a new message. A claim is one write, conditioned on the state's version, so no
   * other flusher claimed or settled anything since the read; a message that gets through is
   * settled by deleting its gifts, with no write to the flush state.
   */
  private async flushOnce(room: Room, owner: string, state: FlushState | undefined): Promise<Flushed | { outcome: "busy"; retryAt: number } | { outcome: "lost"; current: FlushState | undefined }> {
    const intervalMs = Math.max(this.deps.settings.intervalMs, Number(state?.intervalMs ?? 0));
    const last = state?.inflight;
    const leaseUntil = Number(state?.leaseUntil ?? 0);
    // Held by another flusher (this loop's own lease is never in its way): while it sends the
    // message or deletes its gifts, a look at those gifts alone tells whether it is settled. One
    // recorded as delivered is not waited on: finishing its deletes is safe for anyone, at once.
    const held = last !== undefined && !last.delivered && leaseUntil >= Date.now() && state?.owner !== owner;
    // Its gifts still pending: deletes only ever take gifts away, so a look that found none stays true.
    let left = held ? await this.store.stillPending(room.roomId, last.gifts) : undefined;
    if (left && left.length > 0) {
      // Its flusher will most likely claim the next message too: look again at the room's pace, not sooner.
      return { outcome: "busy", retryAt: Math.min(leaseUntil, Date.now() + Math.max(handoffMs, intervalMs)) };
    }
    const read = await this.store.pending(room.roomId, readPerShard);
    if (last) {
      left ??= await this.store.stillPending(room.roomId, last.gifts, read);
      if (left.length > 0) {
        // Its flusher stopped, or gave the lease back after a send no one answered: that message first.
        const now = Date.now();
        const taken = await this.store.write(room.roomId, state.version, { owner, leaseUntil: now + flushLeaseMs }, now);
        if (!taken.ok) return { outcome: "lost", current: taken.current };
        if (last.delivered || left.length < last.gifts.length) {
          // IM took it: its deletes had begun, or were recorded as due. Finish them; never resend it.
          try {
            await this.store.deleteGifts(room.roomId, left);
          } catch (error) {
            // Tried again at the room's next turn (a close's flush keeps going until its deadline).
            this.deps.log.warn("a delivered gift broadcast's gifts could not be deleted yet", { roomId: room.roomId, error });
            return { outcome: "unsettled", nextSendAt: Date.now() + intervalMs };
          }
          this.resolve(room.roomId, last, "sent");
          return { outcome: "sent" };
        }
        return this.send(room, taken.version, last, intervalMs, Number(state.refusals ?? 0), { resend: true });
      }
    }
    if (read.gifts.length === 0) return { outcome: "empty" };
    const { message, taken } = aggregate(room.roomId, read.gifts);
    const batch: InflightBatch = {
      id: randomUUID(),
      random: randomInt(0, 2 ** 32 - 1),
      message,
      priority: priorityOf(taken, this.deps.settings.highPriorityCoins),
      gifts: taken.map((gift) => pendingGiftKey(room.roomId, gift.giftKey, gift.createdAt).sk),
    };
    // Written as if it gets through (each message that does takes a quarter off the interval); a refusal rewrites it.
    const decayed = Math.max(this.deps.settings.intervalMs, Math.round(intervalMs * 0.75));
    // A settled last message (delivered or given up) ends a run of refusals; a refused one was cleared and leaves the count.
    const refusals = last ? 0 : Number(state?.refusals ?? 0);
    const now = Date.now();
    const claim = { inflight: batch, owner, leaseUntil: now + flushLeaseMs, nextSendAt: now + decayed, intervalMs: decayed, refusals };
    const claimed = await this.store.write(room.roomId, state?.version, claim, now);
    if (!claimed.ok) return { outcome: "lost", current: claimed.current };
    return this.send(room, claimed.version, batch, intervalMs, refusals, { nextSendAt: claim.nextSendAt });
  }

  /**
   * Send the message claimed at flush state `version`, then settle it: delete its gifts once IM
   * took it, or write what the failure means (the gifts stay pending) while the state is still
   * at that version. `resend`: it was sent before, and may have arrived.
   */
  private async send(room: Room, version: number, batch: InflightBatch, intervalMs: number, refusals: number, options: { nextSendAt?: number; resend?: boolean }): Promise<Flushed> {
    const { nextSendAt, resend = false } = options;
    try {
      await this.deps.im.sendGroupMessage(room.groupId, customElem({ ...batch.message }, "gifts"), batch.random, undefined, batch.priority);
    } catch (error) {
      return this.notSent(room, version, batch, intervalMs, refusals, resend, error);
    }
    try {
      await this.store.deleteGifts(room.roomId, batch.gifts);
    } catch (error) {
      // Recorded, so whoever finds the message deletes its gifts and never sends it again.
      const now = Date.now();
      const marked = await this.store.write(room.roomId, version, { inflight: { ...batch, delivered: true } }, now).catch(() => undefined);
      if (!marked?.ok) throw error;
      this.deps.log.warn("a delivered gift broadcast's gifts could not be deleted yet; it is recorded as delivered", { roomId: room.roomId, error });
      this.delivered(room.roomId, batch);
      return { outcome: "unsettled", nextSendAt };
    }
    return { outcome: "sent", nextSendAt, othersGifts: this.delivered(room.roomId, batch) };
  }

  /**
   * IM did not take the message, or did not answer: what that means for its gifts and the room's
   * pace. A refused resend is kept as it is: refusing it says nothing of the send before it, which
   * may have arrived, so only the same message (same Random, one copy kept) may carry its gifts.
   */
  private async notSent(room: Room, version: number, batch: InflightBatch, intervalMs: number, refusals: number, resend: boolean, error: unknown): Promise<Flushed> {
    const backedOff = Math.min(maxIntervalMs, intervalMs * 2);
    /** A refused first send is dropped, so its gifts join the next message; a refused resend stays. */
    const refused = resend ? {} : { inflight: null };
    /** The room's next message `interval` from now, the lease given back; the write is skipped if another flusher took the message over. */
    const settle = async (outcome: FlushOutcome, interval: number, change: FlushChange = {}): Promise<Flushed> => {
      const now = Date.now();
      await this.store.write(room.roomId, version, { ...change, leaseUntil: 0, nextSendAt: now + interval, intervalMs: interval }, now);
      return { outcome, nextSendAt: now + interval };
    };
    /** Its gifts are dropped (they stay billed) and their requests answered `undelivered`. */
    const giveUp = async (interval: number): Promise<Flushed> => {
      await this.store.deleteGifts(room.roomId, batch.gifts);
      this.resolve(room.roomId, batch, "undelivered");
      return settle("refused", interval, { refusals: 0 });
    };
    if (isTencentError(error) && groupGoneCodes.has(error.code)) {
      // The group is gone (the room closed and was destroyed): these gifts can reach no one.
      this.deps.log.warn("gift broadcast undeliverable: the group is gone", { roomId: room.roomId, gifts: batch.gifts.length });
      return giveUp(intervalMs);
    }
    if (isTencentError(error) && error.code !== "network") {
      // Refused or dropped: not delivered this time. Its gifts join the next, later message (or, resent, wait for it again).
      if (frequencyErrorCodes.has(error.code)) {
        this.deps.log.info("IM frequency limit: gift broadcasts slow down", { roomId: room.roomId, code: error.code, intervalMs: backedOff });
        return settle("refused", backedOff, refused);
      }
      if (refusals + 1 >= maxRefusals) {
        // The same oldest gifts lead every message, so one IM will not take would block the room (and its close) for good.
        this.deps.log.error("IM kept refusing a gift broadcast; its gifts are given up (they stay billed)", { roomId: room.roomId, gifts: batch.gifts, error });
        return giveUp(backedOff);
      }
      this.deps.log.warn("IM refused a gift broadcast; its gifts join the next one", { roomId: room.roomId, error });
      return settle("refused", backedOff, { ...refused, refusals: refusals + 1 });
    }
    // No answer: it may have arrived. The same message is resent as it is, and IM keeps one copy.
    this.deps.log.warn("gift broadcast unanswered; it is resent unchanged", { roomId: room.roomId, error });
    return settle("unknown", backedOff);
  }

  /** Answers the requests of the gifts it carried; true when it carried gifts no request here waits for (another instance's, mostly). */
  private delivered(roomId: number, batch: InflightBatch): boolean {
    const waiters = this.loops.get(roomId)?.waiters;
    const othersGifts = batch.gifts.some((sk) => !waiters?.has(giftKeyOfSk(sk)));
    this.resolve(roomId, batch, "sent");
    this.deps.onSent?.(roomId, batch.gifts.map(giftKeyOfSk));
    return othersGifts;
  }

  private resolve(roomId: number, batch: InflightBatch, delivery: Delivery) {
    const waiters = this.loops.get(roomId)?.waiters;
    if (!waiters) return;
    for (const sk of batch.gifts) waiters.get(giftKeyOfSk(sk))?.(delivery);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
