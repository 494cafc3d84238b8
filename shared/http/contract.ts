import * as z from "zod/mini";
import { lazy } from "../lazy/index.js";

/**
 * Every error code onair answers with, under the one status it always comes with. The OpenAPI
 * document lists each route's codes from here, so an app can switch on `error.code`.
 */
export const errorCodes = {
  400: {
    invalid_request: "the body does not match the schema; the message names the field",
    invalid_json: "the body is not valid JSON",
    invalid_header: "a header does not match the schema",
    invalid_parameter: "a path or query parameter does not match the schema",
    invalid_cursor: "the cursor is not one this API returned",
    bad_request: "the request cannot be read",
    reserved_user_id: "the userId belongs to the platform (IM admins, onair's robots)",
    idempotency_key_required: "the Idempotency-Key header is missing",
    invalid_idempotency_key: "the Idempotency-Key is not 1-255 printable ASCII characters",
  },
  401: {
    missing_token: "no Authorization: Bearer header",
    invalid_token: "the token is invalid, expired or logged out",
    invalid_credentials: "unknown user or wrong password",
    invalid_admin_key: "X-Admin-Key is missing or wrong",
    invalid_callback_signature: "the platform callback's signature, token or time does not check out",
  },
  402: { insufficient_balance: "not enough coins for the gift" },
  403: {
    reserved_identity: "the caller is an identity the platform trusts; no token may act as it",
    not_room_host: "only the room's host may do this",
    not_in_room: "the caller has not joined the room",
    no_invitation: "no live co-host invitation for the caller",
    cannot_gift_own_room: "hosts cannot send gifts in their own room",
    origin_not_allowed: "a browser preflight from an origin not on CORS_ORIGINS",
  },
  404: {
    room_not_found: "no such room",
    not_a_cohost: "the user is not on mic",
    side_effect_not_found: "no such side effect",
    route_not_found: "no route for this method and path",
  },
  405: { method_not_allowed: "the path exists, the method does not (see Allow)" },
  409: {
    user_exists: "the userId is taken",
    room_closed: "the room is closed",
    room_expired: "the room was not reported live in time",
    room_not_live: "the room is not live",
    room_not_closed: "the room has not ended yet",
    room_busy: "the room changed meanwhile; retry",
    host_is_not_a_viewer: "the host cannot join or be invited in their own room",
    not_a_member: "the invitee is not in the room",
    already_cohost: "the invitee is already on mic",
    too_many_cohosts: "the room has MAX_COHOSTS co-hosts",
    side_effect_not_dead: "only a dead side effect can be retried",
    request_in_progress: "a request with this Idempotency-Key is still running; retry after Retry-After",
    wallet_busy: "the wallet is busy with other movements; retry after Retry-After",
    store_busy: "the room is busy with other changes; retry after Retry-After",
  },
  413: { payload_too_large: "the body is over 16 KiB" },
  415: { unsupported_media_type: "the body is not application/json" },
  422: {
    unknown_gift: "no such gift in the catalog",
    idempotency_key_reused: "the Idempotency-Key was used with a different request",
  },
  429: {
    too_many_registrations: "too many sign-ups from this network; see Retry-After",
    too_many_login_attempts: "too many failed logins; see Retry-After",
  },
  500: { internal_error: "a bug on onair's side" },
  502: { upstream_unavailable: "a Tencent Cloud service did not answer; retry" },
  503: { store_unavailable: "DynamoDB did not answer in time; retry (with the same Idempotency-Key), see Retry-After" },
} as const;

type Catalog = typeof errorCodes;
export type ErrorStatus = keyof Catalog;
export type ErrorCode = { [S in ErrorStatus]: keyof Catalog[S] }[ErrorStatus];

const statusByCode = new Map<string, ErrorStatus>(
  Object.entries(errorCodes).flatMap(([status, codes]) => Object.keys(codes).map((code) => [code, Number(status) as ErrorStatus] as const)),
);

/** The status an error code always comes with. */
export const statusOf = (code: ErrorCode): ErrorStatus => statusByCode.get(code)!;

/** Codes answered with `Retry-After`: the caller should wait that many seconds and repeat the same request. */
const retryAfterCodes = new Set<string>(["request_in_progress", "wallet_busy", "store_busy", "too_many_registrations", "too_many_login_attempts", "store_unavailable"]);

const retryAfterHeader = {
  "Retry-After": { description: "Seconds to wait before repeating the same request", schema: { type: "integer" as const, minimum: 1, example: 1 } },
};

/** Example messages, so each documented code shows a whole error body. */
const exampleMessage = (code: string, status: ErrorStatus) => (errorCodes[status] as Record<string, string>)[code]!;

/** The error envelope with `code` limited to `codes`, as JSON Schema: it only documents, nothing checks answers with it. */
const errorEnvelopeOf = (codes: ErrorCode[]) => ({
  type: "object",
  properties: {
    error: { type: "object", properties: { code: { type: "string", enum: codes }, message: { type: "string" } }, required: ["code", "message"] },
  },
  required: ["error"],
});

/**
 * OpenAPI error responses for the codes a route can answer with, grouped by their status. Each
 * status's body is the error envelope with `code` limited to the route's codes, one example per
 * code, and `Retry-After` where a code carries it.
 */
export function errorResponses(...codes: ErrorCode[]) {
  const byStatus = new Map<ErrorStatus, ErrorCode[]>();
  for (const code of new Set(codes)) byStatus.set(statusOf(code), [...(byStatus.get(statusOf(code)) ?? []), code]);
  return Object.fromEntries(
    [...byStatus].sort(([a], [b]) => a - b).map(([status, list]) => [
      status,
      {
        description: list.map((code) => `\`${code}\`: ${exampleMessage(code, status)}`).join("; "),
        ...(list.some((code) => retryAfterCodes.has(code)) ? { headers: retryAfterHeader } : {}),
        content: {
          "application/json": {
            schema: errorEnvelopeOf(list),
            examples: Object.fromEntries(list.map((code) => [code, { value: { error: { code, message: exampleMessage(code, status) } } }])),
          },
        },
      },
    ]),
  );
}

/** Codes any route with a bearer token can answer with (and 503: every such route reads the store). */
export const bearerErrors: ErrorCode[] = ["missing_token", "invalid_token", "reserved_identity", "store_unavailable"];
/** Codes of operator routes behind X-Admin-Key. */
export const adminErrors: ErrorCode[] = ["invalid_admin_key", "store_unavailable"];
/** Codes of any route that takes a JSON body. */
export const jsonBodyErrors: ErrorCode[] = ["invalid_json", "invalid_request", "payload_too_large", "unsupported_media_type"];

/** An ISO 8601 UTC timestamp, as every time in onair's answers is written. */
export const Timestamp = lazy(() => z.iso.datetime().check(z.meta({ example: "2026-11-25T18:00:00.000Z" })));

/** The `Idempotent-Replayed: true` header of an answer replayed for a repeated Idempotency-Key. */
export const replayedHeader = {
  "Idempotent-Replayed": { description: "`true` when this is the first answer, replayed for a repeated Idempotency-Key; absent otherwise", schema: { type: "string" as const, enum: ["true"] } },
};
