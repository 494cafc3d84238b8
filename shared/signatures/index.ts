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

/** How far in the future a CSS callback's expiry `t` may lie (CSS sets event time + 10 min). */
export const cssMaxExpiryAheadSeconds = 86_400;

/**
 * CSS callback authentication (reference §4.1): `sign` = hex MD5(key + t), and `t` (the expiry,
 * Unix seconds) not yet passed.
 */
export function verifyCssCallback(body: { sign?: unknown; t?: unknown }, key: string, nowSeconds = Math.floor(Date.now() / 1000)): SignatureVerdict {
  const t = typeof body.t === "number" ? body.t : typeof body.t === "string" && /^\d{1,12}$/.test(body.t) ? Number(body.t) : undefined;
  if (t === undefined || typeof body.sign !== "string") return { ok: false, reason: "sign and t are required" };
  if (nowSeconds > t) return { ok: false, reason: "the callback has expired" };
  if (t - nowSeconds > cssMaxExpiryAheadSeconds) return { ok: false, reason: "t is too far in the future" };
  const sign = createHash("md5").update(key + String(t)).digest("hex");
  return equal(sign, body.sign.toLowerCase()) ? { ok: true } : { ok: false, reason: "sign does not match" };
}

export const signCssCallback = (key: string, t: number) => createHash("md5").update(key + String(t)).digest("hex");

/** TRTC callback authentication (reference §6.1): header `Sign` = base64 HMAC-SHA256(key, raw body). */
export function verifyTrtcCallback(rawBody: string, sign: string | undefined, key: string): SignatureVerdict {
  if (!sign) return { ok: false, reason: "Sign header is required" };
  return equal(signTrtcCallback(key, rawBody), sign) ? { ok: true } : { ok: false, reason: "Sign does not match" };
}

export const signTrtcCallback = (key: string, rawBody: string) => createHmac("sha256", key).update(rawBody).digest("base64");
