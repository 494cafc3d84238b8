import { createHash, createHmac, timingSafeEqual } from "node:crypto";

const sha256Hex = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");
const hmac = (key: string | Buffer, data: string) => createHmac("sha256", key).update(data).digest();

/** Tencent's clock-skew limit for signed requests (reference: about five minutes). */
export const maxSkewSeconds = 300;

export type Tc3Result =
  | { ok: true; secretId: string; service: string; action: string }
  | { ok: false; code: "AuthFailure.SignatureFailure" | "AuthFailure.SecretIdNotFound" | "AuthFailure.SignatureExpire" | "AuthFailure.InvalidAuthorization" | "AuthFailure.TokenFailure"; message: string };

/** The TC3-HMAC-SHA256 signature for a POST JSON request, as tencentcloud-sdk-nodejs computes it. */
export function tc3Signature(input: { secretKey: string; service: string; hostname: string; timestamp: number; body: string | Buffer }): string {
  const canonicalRequest = ["POST", "/", "", "content-type:application/json", `host:${input.hostname}`, "", "content-type;host", sha256Hex(input.body)].join("\n");
  const date = new Date(input.timestamp * 1000).toISOString().slice(0, 10);
  const scope = `${date}/${input.service}/tc3_request`;
  const stringToSign = ["TC3-HMAC-SHA256", String(input.timestamp), scope, sha256Hex(canonicalRequest)].join("\n");
  const signingKey = hmac(hmac(hmac(`TC3${input.secretKey}`, date), input.service), "tc3_request");
  return createHmac("sha256", signingKey).update(stringToSign).digest("hex");
}

/**
 * Verify a cloud API request the way the real gateway does. The service is read from the
 * credential scope (the SDK derives it from the endpoint, so `127.0.0.1:PORT` signs as `127`),
 * the host from the Host header without its port, and the body exactly as received.
 */
export function verifyTc3(
  headers: Record<string, string | undefined>,
  rawBody: Buffer,
  secrets: Record<string, string>,
  nowSeconds = Math.floor(Date.now() / 1000),
  sessionTokens: Record<string, string> = {},
): Tc3Result {
  const authorization = headers["authorization"] ?? "";
  const match = /^TC3-HMAC-SHA256 Credential=([^/]+)\/(\d{4}-\d{2}-\d{2})\/([^/]+)\/tc3_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(authorization);
  if (!match) return { ok: false, code: "AuthFailure.InvalidAuthorization", message: "Authorization header is not TC3-HMAC-SHA256" };
  const [, secretId = "", date, service = "", signedHeaders, signature = ""] = match;
  const secretKey = secrets[secretId];
  if (!secretKey) return { ok: false, code: "AuthFailure.SecretIdNotFound", message: `SecretId ${secretId} not found` };
  // Temporary credentials (a role's) are valid only with their session token.
  const token = sessionTokens[secretId];
  if (token !== undefined && headers["x-tc-token"] !== token) return { ok: false, code: "AuthFailure.TokenFailure", message: "X-TC-Token is missing or wrong for temporary credentials" };
  const timestamp = Number(headers["x-tc-timestamp"]);
  if (!Number.isInteger(timestamp) || Math.abs(nowSeconds - timestamp) > maxSkewSeconds) {
    return { ok: false, code: "AuthFailure.SignatureExpire", message: "X-TC-Timestamp is missing or outside the allowed skew" };
  }
  if (new Date(timestamp * 1000).toISOString().slice(0, 10) !== date || signedHeaders !== "content-type;host") {
    return { ok: false, code: "AuthFailure.SignatureFailure", message: "credential date or signed headers do not match" };
  }
  const hostname = (headers["host"] ?? "").replace(/:\d+$/, "");
  const expected = tc3Signature({ secretKey, service, hostname, timestamp, body: rawBody });
  if (!timingSafeEqual(Buffer.from(expected), Buffer.from(signature))) {
    return { ok: false, code: "AuthFailure.SignatureFailure", message: "signature does not match" };
  }
  const action = headers["x-tc-action"];
  if (!action) return { ok: false, code: "AuthFailure.InvalidAuthorization", message: "X-TC-Action is missing" };
  return { ok: true, secretId, service, action };
}
