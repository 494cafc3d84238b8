import { canonicalJson, type MsgPriority } from "../tencent/index.js";

/** One billed gift waiting for its room's next broadcast. */
export interface PendingGift {
  /** The gift's ledger movement: names it once, whichever instance sends it. */
  giftKey: string;
  from: string;
  giftId: string;
  count: number;
  /** Coins billed for it (price × count). */
  value: number;
  createdAt: number;
}

/** One line of a broadcast: a sender's gifts of one kind since the last broadcast, merged into a combo. */
export interface GiftEntry {
  from: string;
  giftId: string;
  count: number;
  value: number;
}

/**
 * The aggregated gift message (README "Room broadcasts"), `TIMCustomElem` Data with Desc `gifts`:
 * `{"type":"gifts","roomId":100001,"gifts":[{"from":"alice","giftId":"castle","count":2,"value":2000},…]}`.
 */
export interface GiftsMessage {
  type: "gifts";
  roomId: number;
  gifts: GiftEntry[];
}

/** IM refuses a message over 12 KB (80002); a broadcast stays well under it, counted as sent. */
export const maxMessageBytes = 10_000;

/** Bytes of a value's JSON as it travels inside the message's `Data` string: UTF-8, quotes escaped. */
const sentBytes = (value: unknown) => Buffer.byteLength(JSON.stringify(canonicalJson(value))) - 2;

/**
 * Take pending gifts, oldest first, into one message of at most `maxMessageBytes`: same sender
 * and same gift merged, biggest value first. Returns the message and the gifts it carries; what
 * does not fit waits for the next one.
 */
export function aggregate(roomId: number, pending: readonly PendingGift[], maxBytes = maxMessageBytes): { message: GiftsMessage; taken: PendingGift[] } {
  const entries = new Map<string, GiftEntry>();
  const taken: PendingGift[] = [];
  let bytes = sentBytes({ type: "gifts", roomId, gifts: [] });
  for (const gift of [...pending].sort((a, b) => a.createdAt - b.createdAt || (a.giftKey < b.giftKey ? -1 : 1))) {
    const key = `${gift.from}\u0000${gift.giftId}`;
    const entry = entries.get(key);
    // A merged entry grows by a few digits; a new one by its whole JSON and a comma.
    const grows = entry ? 12 : sentBytes({ from: gift.from, giftId: gift.giftId, count: gift.count, value: gift.value }) + 1;
    if (bytes + grows > maxBytes && taken.length > 0) break;
    bytes += grows;
    taken.push(gift);
    if (entry) {
      entry.count += gift.count;
      entry.value += gift.value;
    } else entries.set(key, { from: gift.from, giftId: gift.giftId, count: gift.count, value: gift.value });
  }
  const gifts = [...entries.values()].sort((a, b) => b.value - a.value || (a.from < b.from ? -1 : a.from > b.from ? 1 : a.giftId < b.giftId ? -1 : 1));
  return { message: { type: "gifts", roomId, gifts }, taken };
}

/**
 * High when one billed gift is worth at least `highPriorityCoins`: IM keeps High messages when a
 * busy room is over its rate, so a big gift is never dropped with the chatter. Else Normal.
 */
export const priorityOf = (gifts: readonly PendingGift[], highPriorityCoins: number): MsgPriority =>
  gifts.some((gift) => gift.value >= highPriorityCoins) ? "High" : "Normal";
