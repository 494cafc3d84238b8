import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from "jose";
import type { Config } from "../config/index.js";

type JwtConfig = NonNullable<Config["jwt"]>;

let remoteKeys: { url: string; keys: JWTVerifyGetKey } | undefined;

/** Looks like a compact JWS (three base64url parts); session tokens never contain dots. */
export const looksLikeJwt = (token: string): boolean => /^[\w-]+\.[\w-]+\.[\w-]+$/.test(token);

/**
 * Verify a JWT from the app's own identity provider and return its `sub`.
 * Throws when the signature, expiry, issuer or audience is wrong.
 */
export async function verifyAppJwt(token: string, config: JwtConfig): Promise<string> {
  const options = { issuer: config.issuer, audience: config.audience, clockTolerance: 30 };
  let subject: string | undefined;
  if (config.secret) {
    const { payload } = await jwtVerify(token, new TextEncoder().encode(config.secret), { ...options, algorithms: ["HS256"] });
    subject = payload.sub;
  } else if (config.jwksUrl) {
    if (remoteKeys?.url !== config.jwksUrl) remoteKeys = { url: config.jwksUrl, keys: createRemoteJWKSet(new URL(config.jwksUrl)) };
    const { payload } = await jwtVerify(token, remoteKeys.keys, { ...options, algorithms: ["RS256", "ES256"] });
    subject = payload.sub;
  }
  if (!subject) throw new Error("JWT has no sub");
  return subject;
}
