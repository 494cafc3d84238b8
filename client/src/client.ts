import createClient, { type Client, type Middleware } from "openapi-fetch";
import { OnairError } from "./errors.js";
import { createTransport, placeholderBase, type TransportOptions } from "./fetch.js";
import type { components, paths } from "./generated/schema.js";

type Schemas = components["schemas"];
type Token = string | undefined;

export interface OnairClientOptions extends TransportOptions {
  /** The bearer token (session token or app JWT), or a function asked before every call. */
  token?: Token | (() => Token | Promise<Token>);
  /** X-Admin-Key, sent to `/v1/admin/` routes only. Keep it out of apps; it is for operators' tools. */
  adminKey?: string;
  /** A new Idempotency-Key. @default crypto.randomUUID, or 128 random bits in hex */
  newIdempotencyKey?: () => string;
}

/** A call's options: the caller's signal aborts it (retries too). */
export interface CallOptions {
  signal?: AbortSignal;
}

/** A gift or credit: one key per logical operation; pass the one you stored to retry it after a crash. */
export interface IdempotentCallOptions extends CallOptions {
  idempotencyKey?: string;
}

function randomKey(): string {
  const crypto = globalThis.crypto;
  if (typeof crypto?.randomUUID === "function") return crypto.randomUUID();
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** The data of a 2xx answer, or an `OnairError` carrying the error envelope's code. */
export async function unwrap<T extends { data?: unknown; error?: unknown; response: Response }>(call: Promise<T>): Promise<Exclude<T["data"], undefined>> {
  const { data, error, response } = await call;
  if (!response.ok) throw new OnairError(response, error);
  return data as Exclude<T["data"], undefined>;
}

export interface OnairClient {
  /** Every operation, typed from the OpenAPI document (openapi-fetch): `{ data, error, response }`. */
  api: Client<paths>;
  /** Replace the bearer token (after login or logout). */
  setToken(token: Token): void;
  newIdempotencyKey(): string;
  /** Send a gift (mode b). The key is generated once for this gift and reused by every retry. */
  sendGift(gift: Schemas["GiftRequest"], options?: IdempotentCallOptions): Promise<{ gift: Schemas["GiftResult"]; idempotencyKey: string; replayed: boolean }>;
  /** Operator top-up (needs `adminKey`); one key per credit, as for gifts. */
  creditWallet(userId: string, credit: { amount: number; reason: string }, options?: IdempotentCallOptions): Promise<{ ledgerId: string; idempotencyKey: string; replayed: boolean }>;
}

/**
 * A client for onair's HTTP API, for H5, mini-programs (pass their request as `fetch`) and Node.
 *
 * @example
 * const onair = createOnairClient({ baseUrl: "https://api.example.com" });
 * const { token } = await unwrap(onair.api.POST("/v1/sessions", { body: { userId, password } }));
 * onair.setToken(token);
 * const room = await unwrap(onair.api.POST("/v1/rooms", { body: { title: "Hello" } }));
 */
export function createOnairClient(options: OnairClientOptions): OnairClient {
  let token = options.token;
  const newIdempotencyKey = options.newIdempotencyKey ?? randomKey;
  const api = createClient<paths>({ baseUrl: options.baseUrl ?? placeholderBase, fetch: createTransport(options) });

  const credentials: Middleware = {
    async onRequest({ request, schemaPath }) {
      const bearer = typeof token === "function" ? await token() : token;
      if (bearer && !request.headers.has("authorization")) request.headers.set("authorization", `Bearer ${bearer}`);
      if (options.adminKey && schemaPath.startsWith("/v1/admin/")) request.headers.set("x-admin-key", options.adminKey);
      return request;
    },
  };
  api.use(credentials);

  return {
    api,
    setToken: (next) => void (token = next),
    newIdempotencyKey,
    async sendGift(gift, { idempotencyKey = newIdempotencyKey(), signal } = {}) {
      const call = api.POST("/v1/wallet/gifts", { body: gift, params: { header: { "idempotency-key": idempotencyKey } }, signal });
      const result = await withKey(unwrap(call), idempotencyKey);
      return { gift: result, idempotencyKey, replayed: (await call).response.headers.get("idempotent-replayed") === "true" };
    },
    async creditWallet(userId, credit, { idempotencyKey = newIdempotencyKey(), signal } = {}) {
      const call = api.POST("/v1/admin/wallets/{userId}/credits", { params: { path: { userId }, header: { "idempotency-key": idempotencyKey } }, body: credit, signal });
      const { ledgerId } = await withKey(unwrap(call), idempotencyKey);
      return { ledgerId, idempotencyKey, replayed: (await call).response.headers.get("idempotent-replayed") === "true" };
    },
  };
}

/**
 * A failed gift or credit carries its key as `idempotencyKey` (timeouts and dropped connections
 * too): repeating the call with it moves money at most once, whatever the first attempt did.
 */
async function withKey<T>(call: Promise<T>, idempotencyKey: string): Promise<T> {
  try {
    return await call;
  } catch (error) {
    if (typeof error === "object" && error !== null) Object.assign(error, { idempotencyKey });
    throw error;
  }
}
