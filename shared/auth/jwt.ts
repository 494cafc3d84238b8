import type { JWTVerifyGetKey } from "jose";
import type { Config } from "../config/index.js";

type JwtConfig = NonNullable<Config["jwt"]>;

let remoteKeys: { url: string; keys: JWTVerifyGetKey } | undefined;

/** Looks like a compact JWS (three base64url parts); session tokens never contain dots. */
export const looksLikeJwt = (token: string): boolean => /^[\w-]+\.[\w-]+\.[\w-]+$/.test(token);

/**
 * Verify a JWT from the app's own identity provider: its `sub` and `exp`. Throws when the
 * signature, issuer or audience (when configured) is wrong, when it has expired, or when it
 * has no `exp` at all: a token that never expires could never be taken back.
 */
export async function verifyAppJwt(token: string, config: JwtConfig): Promise<{ subject: string; expiresAtSeconds: number }> {
  // jose loads on the first JWT (apps on onair's sessions never run it), from jose.js beside a
  // bundle: if that file is missing, the error is the deployment's and stays a 500, not a 401.
  const { createRemoteJWKSet, jwtVerify } = await import("./jose.js");
  const options = { issuer: config.issuer, audience: config.audience, clockTolerance: 30, requiredClaims: ["exp", "sub"] };
  let payload: Awaited<ReturnType<typeof jwtVerify>>["payload"];
  try {
    ({ payload } = config.secret
      ? await jwtVerify(token, new TextEncoder().encode(config.secret), { ...options, algorithms: ["HS256"] })
      : await jwtVerify(token, jwks(config.jwksUrl!, createRemoteJWKSet), { ...options, algorithms: ["RS256", "ES256"] }));
  } catch (error) {
    throw new InvalidAppJwtError(error instanceof Error ? error.message : String(error), { cause: error });
  }
  // A logout is kept until the token's own expiry; one that expires centuries ahead is no session.
  if (payload.exp! > Math.floor(Date.now() / 1000) + maxJwtLifetimeSeconds) throw new InvalidAppJwtError(`JWT exp is more than ${maxJwtLifetimeSeconds} s ahead`);
  return { subject: payload.sub!, expiresAtSeconds: payload.exp! };
}

/** Why `verifyAppJwt` refused a token: what the caller sent, never the deployment's fault. */
export class InvalidAppJwtError extends Error {
  override readonly name = "InvalidAppJwtError";
}

/** The furthest ahead an app JWT may expire. @default 30 days */
export const maxJwtLifetimeSeconds = 30 * 86_400;

function jwks(url: string, createRemoteJWKSet: typeof import("./jose.js").createRemoteJWKSet): JWTVerifyGetKey {
  if (remoteKeys?.url !== url) remoteKeys = { url, keys: createRemoteJWKSet(new URL(url)) };
  return remoteKeys.keys;
}
