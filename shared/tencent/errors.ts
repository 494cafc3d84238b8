/**
 * A failed Tencent Cloud call: an IM REST `ErrorCode`, a cloud API `Error.Code`, or `network`
 * (timeout, refused connection, non-JSON reply). Matched by `name`, never `instanceof`.
 */
export class TencentError extends Error {
  override readonly name = "TencentError";
  constructor(
    readonly action: string,
    readonly code: string,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(`${action} failed: ${code}: ${message}`, options);
  }
}

export function isTencentError(error: unknown): error is TencentError {
  return (error as { name?: string } | null)?.name === "TencentError";
}
