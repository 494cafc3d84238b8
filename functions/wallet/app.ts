import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import * as z from "zod/mini";
import { requireAdminKey, requireUser, UserIdSchema } from "../../shared/auth/index.js";
import { auditWallet, BillingService, catalogVersion, gifts, maxGiftCount, movementId, staleRecordOf, WalletStore, type StoredAnswer } from "../../shared/billing/index.js";
import { Broadcaster } from "../../shared/broadcasts/index.js";
import type { Config } from "../../shared/config/index.js";
import { isUnresolvedWrite, type Db } from "../../shared/db/index.js";
import { ConflictError, StoreUnavailableError } from "../../shared/errors/index.js";
import { getRecord, idempotencyKeyFrom, idempotencyTtlSeconds, newRecord, replayOf, requestInProgress } from "../../shared/idempotency/index.js";
import {
  adminErrors,
  adminSecurity,
  bearerErrors,
  bearerSecurity,
  createApp,
  createRoute,
  decodeCursor,
  encodeCursor,
  errorResponses,
  jsonBody,
  jsonBodyErrors,
  jsonResponse,
  noSecurity,
  PageQuerySchema,
  pageOf,
  replayedHeader,
  Timestamp,
  type AppEnv,
  type ErrorCode,
} from "../../shared/http/index.js";
import { createLogger, type Logger } from "../../shared/log/index.js";
import { maxRoomId, RoomStore } from "../../shared/rooms/index.js";
import type { TencentDeps } from "../../shared/tencent/index.js";
import { lazy } from "../../shared/lazy/index.js";

const RoomId = lazy(() => z.number().check(z.int(), z.minimum(1), z.maximum(maxRoomId)));
const IdempotencyHeaders = lazy(() => z.object({
  // Checked by the handler, so a missing or malformed key gets its own code (idempotency_key_required, invalid_idempotency_key);
  // the document says what the handler requires.
  "idempotency-key": z.optional(z.string()).check(
    z.meta({
      param: { required: true },
      pattern: "^[\\x21-\\x7e]{1,255}$",
      description: "1-255 printable ASCII characters, one per logical gift or credit: a retry with the same key and body gets the first answer and bills nothing. Kept 24 h, scoped to the caller.",
      example: "7f1c2a9e-5b0d-4a51-9d8e-2f6c1b7a0e44",
    }),
  ),
}));
const GiftRequest = lazy(() => z
  .strictObject({ roomId: RoomId(), giftId: z.string().check(z.minLength(1), z.maxLength(64)), count: z.number().check(z.int(), z.minimum(1), z.maximum(maxGiftCount)) })
  .check(z.meta({ id: "GiftRequest" })));
const GiftResult = lazy(() => z
  .object({
    roomId: z.number(),
    giftId: z.string(),
    count: z.number(),
    amount: z.number(),
    heat: z.number(),
    ledgerId: z.optional(z.string()),
    delivery: z.enum(["sent", "queued", "undelivered"]).check(
      z.meta({
        description: "sent: a room broadcast carrying the gift reached the group; queued: the room's next broadcast (or the sweeper's) carries it, exactly once; undelivered: the room's group was gone",
      }),
    ),
  })
  .check(z.meta({ id: "GiftResult" })));

/** The client contract of the aggregated gift message (README "Room broadcasts"). */
const giftBroadcastDescription = [
  "Bills the gift (one ledger movement) and adds it to the room's pending gift broadcasts in the same transaction.",
  "The request waits up to 1.5 s for a broadcast carrying it (`delivery`).",
  "",
  "Viewers receive gifts as one group message per room per interval (`BROADCAST_INTERVAL_MS`, 500 ms), sent by the IM admin: a `TIMCustomElem` with `Desc` `gifts` and `Data`",
  "",
  '`{"type":"gifts","roomId":100001,"gifts":[{"from":"bob","giftId":"castle","count":1,"value":1000},{"from":"alice","giftId":"rose","count":12,"value":12}]}`',
  "",
  "`gifts` lists every gift billed since the room's previous message, the same sender's same gift merged into a combo (`count` gifts worth `value` coins), biggest `value` first.",
  "Each billed gift is in exactly one message. A message holding a gift worth `BROADCAST_HIGH_PRIORITY_COINS` (1000) or more is sent with MsgPriority High, others Normal.",
].join("\n");
const LedgerItem = lazy(() => z
  .object({
    entryId: z.string(),
    kind: z.enum(["credit", "gift_sent", "gift_received", "gift_refund_sent", "gift_refund_received"]),
    account: z.enum(["balance", "earnings"]),
    amount: z.number(),
    createdAt: Timestamp(),
    roomId: z.optional(z.number()),
    giftId: z.optional(z.string()),
    count: z.optional(z.number()),
    counterparty: z.optional(z.string()),
    reason: z.optional(z.string()),
  })
  .check(z.meta({ id: "LedgerEntry" })));

const at = "2026-11-25T18:00:00.000Z";
const giftExample = { roomId: 100001, giftId: "rose", count: 3 };
/** Codes of a call that carries an Idempotency-Key. */
const idempotentErrors: ErrorCode[] = ["idempotency_key_required", "invalid_idempotency_key", "idempotency_key_reused"];
const Gift = lazy(() => z.object({ giftId: z.string(), name: z.string(), price: z.number(), heat: z.number() }).check(z.meta({ id: "Gift" })));
const Catalog = lazy(() => z.object({ version: z.string(), items: z.array(Gift()) }).check(z.meta({ id: "GiftCatalog" })));

const routes = {
  gifts: createRoute({
    method: "get",
    path: "/v1/gifts",
    operationId: "listGifts",
    summary: "Gift catalog",
    security: noSecurity,
    responses: () => ({
      200: jsonResponse("Catalog", Catalog(), { version: "2026-11-01", items: [{ giftId: "rose", name: "Rose", price: 1, heat: 1 }] }),
    }),
  }),
  wallet: createRoute({
    method: "get",
    path: "/v1/wallet",
    operationId: "getWallet",
    summary: "Caller's coin balance and gift earnings",
    security: bearerSecurity,
    responses: () => ({
      200: jsonResponse("Wallet", z.object({ userId: z.string(), balance: z.number(), earnings: z.number() }).check(z.meta({ id: "Wallet" })), { userId: "bob", balance: 97, earnings: 0 }),
      ...errorResponses(...bearerErrors),
    }),
  }),
  ledger: createRoute({
    method: "get",
    path: "/v1/wallet/ledger",
    operationId: "listLedger",
    summary: "Caller's ledger, newest first",
    security: bearerSecurity,
    request: () => ({ query: PageQuerySchema() }),
    responses: () => ({
      200: jsonResponse("Ledger", pageOf(LedgerItem()), {
        items: [{ entryId: "L-3f9a", kind: "gift_sent", account: "balance", amount: -3, createdAt: at, roomId: 100001, giftId: "rose", count: 3, counterparty: "alice" }],
        nextCursor: null,
      }),
      ...errorResponses(...bearerErrors, "invalid_parameter", "invalid_cursor"),
    }),
  }),
  gift: createRoute({
    method: "post",
    path: "/v1/wallet/gifts",
    operationId: "sendGift",
    summary: "Send a gift (mode b): bill it; the room's next gift broadcast carries it",
    description: giftBroadcastDescription,
    security: bearerSecurity,
    request: () => ({ headers: IdempotencyHeaders(), body: jsonBody(GiftRequest(), giftExample) }),
    responses: () => ({
      201: jsonResponse("Billed", GiftResult(), { ...giftExample, amount: 3, heat: 3, ledgerId: "L-3f9a", delivery: "sent" }, replayedHeader),
      ...errorResponses(...bearerErrors, ...jsonBodyErrors, ...idempotentErrors, "request_in_progress", "insufficient_balance", "cannot_gift_own_room", "room_not_found", "room_not_live", "wallet_busy", "unknown_gift"),
    }),
  }),
  leaderboard: createRoute({
    method: "get",
    path: "/v1/rooms/{roomId}/leaderboard",
    operationId: "getLeaderboard",
    summary: "Top gifters of a room by coins",
    security: bearerSecurity,
    request: () => ({
      params: z.object({ roomId: z.coerce.number().check(z.int(), z.minimum(1), z.maximum(maxRoomId), z.meta({ example: 100001 })) }),
      query: z.object({ limit: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(100)), 20) }),
    }),
    responses: () => ({
      200: jsonResponse("Leaderboard", z.object({ roomId: z.number(), items: z.array(z.object({ rank: z.number(), userId: z.string(), coins: z.number() })) }), {
        roomId: 100001,
        items: [{ rank: 1, userId: "bob", coins: 120 }],
      }),
      ...errorResponses(...bearerErrors, "invalid_parameter"),
    }),
  }),
  credit: createRoute({
    method: "post",
    path: "/v1/admin/wallets/{userId}/credits",
    operationId: "creditWallet",
    summary: "Admin top-up (X-Admin-Key, Idempotency-Key)",
    security: adminSecurity,
    request: () => ({
      params: z.object({ userId: UserIdSchema() }),
      headers: IdempotencyHeaders(),
      body: jsonBody(z.strictObject({ amount: z.number().check(z.int(), z.minimum(1), z.maximum(10_000_000)), reason: z.string().check(z.trim(), z.minLength(1), z.maxLength(200)) }), { amount: 100, reason: "welcome bonus" }),
    }),
    responses: () => ({
      201: jsonResponse("Credited", z.object({ userId: z.string(), amount: z.number(), reason: z.string(), ledgerId: z.string() }), { userId: "bob", amount: 100, reason: "welcome bonus", ledgerId: "L-0c1d" }, replayedHeader),
      ...errorResponses(...adminErrors, ...jsonBodyErrors, ...idempotentErrors, "invalid_parameter", "wallet_busy"),
    }),
  }),
  audit: createRoute({
    method: "get",
    path: "/v1/admin/audit/wallets/{userId}",
    operationId: "auditWallet",
    summary: "Admin: a wallet's ledger summed against its balance and earnings (X-Admin-Key)",
    security: adminSecurity,
    request: () => ({ params: z.object({ userId: UserIdSchema() }) }),
    responses: () => ({
      200: jsonResponse(
        "Audit",
        z
          .object({
            userId: z.string(),
            balance: z.number(),
            earnings: z.number(),
            ledgerBalance: z.number(),
            ledgerEarnings: z.number(),
            staleRecords: z.array(z.object({ scope: z.string(), status: z.string(), ageSeconds: z.number(), overdue: z.boolean() })),
            consistent: z.boolean(),
          })
          .check(z.meta({ id: "WalletAudit" })),
        { userId: "bob", balance: 97, earnings: 0, ledgerBalance: 97, ledgerEarnings: 0, staleRecords: [], consistent: true },
      ),
      ...errorResponses(...adminErrors, "invalid_parameter"),
    }),
  }),
};

const LedgerCursor = lazy(() => z.object({ before: z.string().check(z.maxLength(64)) }));

/** The Idempotency-Key header, or a 400 naming what is wrong with it. */
const idempotencyKeyOf = (c: Context) => idempotencyKeyFrom(c.req.header("idempotency-key"));

function answer(c: Context<AppEnv>, result: StoredAnswer) {
  if (result.replayed) c.header("idempotent-replayed", "true");
  return c.json(result.body, result.status as ContentfulStatusCode);
}

export interface WalletAppDeps {
  db: Db;
  config: Config;
  tencent: TencentDeps;
}

/** The wallet function: catalog, balances, ledger, app-initiated gifts, leaderboards, admin credits. */
export function createWalletApp(deps: WalletAppDeps) {
  const app = createApp({ service: "wallet", corsOrigins: deps.config.corsOrigins });
  const authenticated = requireUser(deps);
  const wallets = new WalletStore(deps.db);
  // One per function instance: gifts of a room billed here share one flush.
  const broadcaster = new Broadcaster({ db: deps.db, im: deps.tencent.im, log: createLogger({ service: "wallet" }), settings: deps.config.broadcasts });
  const billing = (log: Logger) => new BillingService({ wallets, rooms: new RoomStore(deps.db), tencent: deps.tencent, log, broadcaster });
  const admin = requireAdminKey(deps.config);

  const catalog = { version: catalogVersion, items: gifts.map(({ giftId, name, price, heat }) => ({ giftId, name, price, heat })) };
  app.openapi(routes.gifts, (c) => c.json(catalog, 200));

  app.openapi({ ...routes.wallet, middleware: [authenticated] }, async (c) => c.json({ userId: c.var.userId, ...(await wallets.wallet(c.var.userId)) }, 200));

  app.openapi({ ...routes.ledger, middleware: [authenticated] }, async (c) => {
    const { limit, cursor } = c.req.valid("query");
    const page = await wallets.ledger(c.var.userId, limit, decodeCursor(cursor, LedgerCursor())?.before);
    return c.json(
      {
        items: page.entries.map((entry) => ({ ...entry, createdAt: new Date(entry.createdAt).toISOString() })),
        nextCursor: page.next ? encodeCursor({ before: page.next }) : null,
      },
      200,
    );
  });

  app.openapi({ ...routes.gift, middleware: [authenticated] }, async (c) => {
    const key = idempotencyKeyOf(c);
    return answer(c, await billing(c.var.log).giftFromApp(c.var.userId, c.req.valid("json"), key));
  });

  app.openapi({ ...routes.leaderboard, middleware: [authenticated] }, async (c) => {
    const { roomId } = c.req.valid("param");
    const top = await wallets.leaderboard(roomId, c.req.valid("query").limit);
    return c.json({ roomId, items: top.map((entry, index) => ({ rank: index + 1, ...entry })) }, 200);
  });

  app.openapi({ ...routes.credit, middleware: [admin] }, async (c) => {
    const key = idempotencyKeyOf(c);
    const { userId } = c.req.valid("param");
    const { amount, reason } = c.req.valid("json");
    const scope = `admin:${key}`;
    const now = Date.now();
    const body = { userId, amount, reason, ledgerId: movementId(scope, now) };
    const record = newRecord(scope, { userId, amount, reason }, "completed", { status: 201, body }, now);
    let result: Awaited<ReturnType<WalletStore["credit"]>>;
    try {
      result = await wallets.credit(userId, amount, reason, record);
    } catch (error) {
      if (!isUnresolvedWrite(error)) throw error;
      // Did it commit? The record says; otherwise the caller retries with the key.
      const stored = await getRecord(deps.db, scope).catch(() => undefined);
      if (stored?.createdAt !== now) throw new StoreUnavailableError(error);
      result = { outcome: "billed", ledgerId: body.ledgerId };
    }
    if (result.outcome === "billed") return c.json(body, 201);
    if (result.outcome === "duplicate" && result.record) {
      const outcome = replayOf(result.record, record.fingerprint);
      if (outcome === "stale") throw requestInProgress(); // credits are completed in their transaction
      c.header("idempotent-replayed", "true");
      return c.json(outcome.answer.body as typeof body, 201);
    }
    throw new ConflictError("wallet_busy", "the wallet is busy; retry shortly", { "retry-after": "1" });
  });

  app.openapi({ ...routes.audit, middleware: [admin] }, async (c) => {
    const { userId } = c.req.valid("param");
    const now = Date.now();
    // Idempotency records live 24 h, so only that day's charges can have one left unsettled.
    const [wallet, entries, records] = await Promise.all([wallets.wallet(userId), wallets.allLedgerEntries(userId), wallets.chargeRecordsSince(userId, now - idempotencyTtlSeconds * 1000)]);
    const stale = records.flatMap((record) => staleRecordOf(record, now) ?? []);
    return c.json(auditWallet(userId, wallet, entries, stale), 200);
  });

  return app;
}
