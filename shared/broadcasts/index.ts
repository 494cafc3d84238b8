export { Broadcaster, deliveryWaitMs, flushLeaseMs, maxIntervalMs, maxRefusals, type BroadcastSettings, type Delivery } from "./broadcaster.js";
export { aggregate, maxMessageBytes, priorityOf, type GiftEntry, type GiftsMessage, type PendingGift } from "./message.js";
export { BroadcastStore, flushStateKey, giftShards, leftoverAfterMs, pendingGiftKey, type FlushState, type InflightBatch } from "./store.js";
