import type { MiddlewareHandler } from "hono";
import type { Config } from "../config/index.js";
import type { Db } from "../db/index.js";
import { ForbiddenError, UnauthorizedError } from "../errors/index.js";
import type { AppEnv } from "../http/route.js";
import { secretsEqual } from "../signatures/index.js";
import { reservedIdentityRule, userIdPattern } from "./identifiers.js";
import { InvalidAppJwtError, looksLikeJwt, verifyAppJwt } from "./jwt.js";
import { findSession, isJwtRevoked } from "./sessions.js";

/** The bearer token of a request, or a 401 naming what is wrong with the header. */
export function bearerToken(header: string | undefined): string {
  if (!header) throw new UnauthorizedError("missing_token", "Authorization: Bearer <token> header is required");
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match?.[1]) throw new UnauthorizedError("invalid_token", "Authorization header must be 'Bearer <token>'");
  return match[1];
}

export type Caller = { userId: string } & ({ kind: "session" } | { kind: "jwt"; expiresAtSeconds: number });

/**
 * Who a bearer token speaks for: an onair session, or (when configured) an app JWT whose `sub`
 * is the user id. Whatever the source, an identity the platform trusts (an IM admin, onair's
 * robots) is refused, so no token can become one.
 */
export async function resolveCaller(deps: { db: Db; config: Pick<Config, "jwt" | "imAdminUsers"> }, token: string): Promise<Caller> {
  let caller: Caller;
  if (deps.config.jwt && looksLikeJwt(token)) {
    let verified: Awaited<ReturnType<typeof verifyAppJwt>>;
    try {
      verified = await verifyAppJwt(token, deps.config.jwt);
    } catch (error) {
      if (!(error instanceof InvalidAppJwtError)) throw error;
      throw new UnauthorizedError("invalid_token", "token is invalid, expired, or lacks exp or sub");
    }
    if (!userIdPattern.test(verified.subject)) throw new UnauthorizedError("invalid_token", "token subject is not a valid user id");
    if (await isJwtRevoked(deps.db, token)) throw new UnauthorizedError("invalid_token", "token was logged out");
    caller = { userId: verified.subject, kind: "jwt", expiresAtSeconds: verified.expiresAtSeconds };
  } else {
    const userId = (await findSession(deps.db, token))?.userId;
    if (!userId) throw new UnauthorizedError("invalid_token", "session is invalid, expired or logged out");
    caller = { userId, kind: "session" };
  }
  const reserved = reservedIdentityRule(caller.userId, deps.config.imAdminUsers);
  if (reserved) throw new ForbiddenError("reserved_identity", `${reserved}; no token may act as it`);
  return caller;
}

/** Resolve the caller (see `resolveCaller`) and set `c.var.userId`. */
export function requireUser(deps: { db: Db; config: Pick<Config, "jwt" | "imAdminUsers"> }): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const caller = await resolveCaller(deps, bearerToken(c.req.header("authorization")));
    c.set("userId", caller.userId);
    await next();
  };
}

/** Operator routes: the `X-Admin-Key` header must match ONAIR_ADMIN_KEY (compared in constant time). */
export function requireAdminKey(config: Pick<Config, "adminKey">): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (!secretsEqual(c.req.header("x-admin-key"), config.adminKey)) throw new UnauthorizedError("invalid_admin_key", "a valid X-Admin-Key header is required");
    await next();
  };
}
