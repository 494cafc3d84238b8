import type { components } from "./generated/schema.js";

export type ErrorCode = components["schemas"]["ErrorCode"];

/**
 * onair answered with an error. `code` is one of the document's `ErrorCode`s; match on it (or
 * on `name`), not on `message`, which is for people.
 */
export class OnairError extends Error {
  override readonly name = "OnairError";
  readonly status: number;
  readonly code: ErrorCode;
  /** Seconds the server asked to wait before repeating the request, when it said. */
  readonly retryAfterSeconds: number | undefined;
  /** `X-Request-Id` of the answer, for support. */
  readonly requestId: string | undefined;
  /** The key a failed `sendGift` or `creditWallet` used: repeat the call with it. */
  idempotencyKey?: string;

  constructor(response: Response, body: unknown) {
    const error = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
    super(error?.message ?? `onair answered ${response.status}`);
    this.status = response.status;
    // An answer without the envelope (a proxy's page) still gets a code the app can switch on.
    this.code = (error?.code ?? (response.status >= 500 ? "internal_error" : "bad_request")) as ErrorCode;
    const retryAfter = Number(response.headers.get("retry-after"));
    this.retryAfterSeconds = Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined;
    this.requestId = response.headers.get("x-request-id") ?? undefined;
  }
}

/** The call did not finish within `timeoutMs`, retries included. */
export class OnairTimeoutError extends Error {
  override readonly name = "OnairTimeoutError";
  /** The key a timed-out `sendGift` or `creditWallet` used: repeat the call with it. */
  idempotencyKey?: string;
  constructor(readonly timeoutMs: number) {
    super(`onair did not answer within ${timeoutMs} ms`);
  }
}
