/**
 * The one error tree of onair. Every error a user can meet is an `AppError` with a literal
 * `name`, a snake_case `code` and an HTTP `status`; the HTTP layer turns it into the envelope
 * `{"error":{"code","message"}}` in exactly one place. Anything else is a generic 500.
 *
 * Match errors by `name`/`code`, never `instanceof`: bundles may carry their own copy.
 */
export class AppError extends Error {
  override readonly name: string = "AppError";
  readonly status: number;
  readonly code: string;
  /** Extra response headers, e.g. `Retry-After`. */
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    code: string,
    message: string,
    options: { cause?: unknown; headers?: Record<string, string> } = {},
  ) {
    super(message, { cause: options.cause });
    this.status = status;
    this.code = code;
    this.headers = options.headers ?? {};
  }
}

export class BadRequestError extends AppError {
  override readonly name = "BadRequestError";
  constructor(code: string, message: string) {
    super(400, code, message);
  }
}

export class UnauthorizedError extends AppError {
  override readonly name = "UnauthorizedError";
  constructor(code: string, message: string) {
    super(401, code, message, { headers: { "www-authenticate": "Bearer" } });
  }
}

export class ForbiddenError extends AppError {
  override readonly name = "ForbiddenError";
  constructor(code: string, message: string) {
    super(403, code, message);
  }
}

export class NotFoundError extends AppError {
  override readonly name = "NotFoundError";
  constructor(code: string, message: string) {
    super(404, code, message);
  }
}

export class ConflictError extends AppError {
  override readonly name = "ConflictError";
  constructor(code: string, message: string, headers?: Record<string, string>) {
    super(409, code, message, { headers });
  }
}

export class UnprocessableError extends AppError {
  override readonly name = "UnprocessableError";
  constructor(code: string, message: string) {
    super(422, code, message);
  }
}

export class TooManyRequestsError extends AppError {
  override readonly name = "TooManyRequestsError";
  constructor(code: string, message: string, retryAfterSeconds: number) {
    super(429, code, message, { headers: { "retry-after": String(Math.max(1, Math.ceil(retryAfterSeconds))) } });
  }
}

/** True for any error of the tree, also one thrown by another bundle's copy of this module. */
export function isAppError(error: unknown): error is AppError {
  return (
    typeof error === "object" &&
    error !== null &&
    typeof (error as AppError).status === "number" &&
    typeof (error as AppError).code === "string" &&
    (error as AppError).name.endsWith("Error")
  );
}

/** A Tencent Cloud service onair needs could not answer; the caller (or the platform's retry) should try again. */
export class UpstreamError extends AppError {
  override readonly name = "UpstreamError";
  constructor(message: string, cause: unknown) {
    super(502, "upstream_unavailable", message, { cause });
  }
}

/**
 * The store did not answer (throttled past every retry, a 500, a reset) and the outcome could
 * not be made certain in time. Nothing the caller asked for is known to have happened: retrying
 * with the same Idempotency-Key is safe.
 */
export class StoreUnavailableError extends AppError {
  override readonly name = "StoreUnavailableError";
  constructor(cause: unknown) {
    super(503, "store_unavailable", "the store is not answering just now; retry (with the same Idempotency-Key) shortly", { cause, headers: { "retry-after": "1" } });
  }
}
