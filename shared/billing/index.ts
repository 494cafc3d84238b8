export { catalogVersion, findGift, gifts, maxGiftCount, type Gift } from "./catalog.js";
export { BillingService, callbackBillingDeadlineMs, giftRejections, parseGiftMessage, type CallbackVerdict, type GiftPayload, type StoredAnswer } from "./service.js";
export { chargeFor, earningShards, movementId, ledgerShards, WalletStore, type GiftCharge, type LedgerEntry } from "./store.js";
export { auditWallet, refundOverdueMs, staleRecordOf, TableAudit, type WalletAudit } from "./audit.js";
