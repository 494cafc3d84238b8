import { createHash, createHmac, timingSafeEqual } from "node:crypto";

/** Window in which an IM callback's RequestTime is accepted, either side of now. */
export const imCallbackWindowSeconds = 60;

const equal = (a: string, b: string) => {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
};

export type SignatureVerdict = { ok: true } | { ok: false; reason: string };

/**
 * Cloud IM callback authentication (reference §3.2): `Sign` = hex SHA-256 of token +
 * RequestTime, RequestTime in seconds and recent, and the SdkAppid ours.
 */
export function verifyImCallback(
  query: { SdkAppid?: string; Sign?: string; RequestTime?: string },
  expected: { sdkAppId: number; token: string },
  nowSeconds = Math.floor(Date.now() / 1000),
): SignatureVerdict {
  if (query.SdkAppid !== String(expected.sdkAppId)) return { ok: false, reason: "SdkAppid does not match" };
  if (!query.Sign || !query.RequestTime || !/^\d{1,12}$/.test(query.RequestTime)) return { ok: false, reason: "Sign and RequestTime are required" };
  if (Math.abs(nowSeconds - Number(query.RequestTime)) > imCallbackWindowSeconds) return { ok: false, reason: "RequestTime is outside the accepted window" };
  const sign = createHash("sha256").update(expected.token + query.RequestTime).digest("hex");
  return equal(sign, query.Sign.toLowerCase()) ? { ok: true } : { ok: false, reason: "Sign does not match" };
}

/** The query IM appends to a callback, signed with `token` (used by the emulator and tests). */
export function signImCallback(token: string, requestTimeSeconds: number): { Sign: string; RequestTime: string } {
  return { Sign: createHash("sha256").update(token + requestTimeSeconds).digest("hex"), RequestTime: String(requestTimeSeconds) };
}

/** Constant-time comparison of secrets such as the admin key. */
export function secretsEqual(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  // Hash both so the comparison takes the same time whatever the lengths.
  const a = createHmac("sha256", "onair").update(given).digest();
  const b = createHmac("sha256", "onair").update(expected).digest();
  return timingSafeEqual(a, b);
}
