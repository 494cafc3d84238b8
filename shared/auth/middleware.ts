import type { MiddlewareHandler } from "hono";
import type { Config } from "../config/index.js";
import type { Db } from "../db/index.js";
import { UnauthorizedError } from "../errors/index.js";
import type { AppEnv } from "../http/app.js";
import { secretsEqual } from "../signatures/index.js";
import { userIdPattern } from "./identifiers.js";
import { looksLikeJwt, verifyAppJwt } from "./jwt.js";
import { findSession } from "./sessions.js";

/** The bearer token of a request, or a 401 naming what is wrong with the header. */
export function bearerToken(header: string | undefined): string {
  if (!header) throw new UnauthorizedError("missing_token", "Authorization: Bearer <token> header is required");
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match?.[1]) throw new UnauthorizedError("invalid_token", "Authorization header must be 'Bearer <token>'");
  return match[1];
}

/**
 * Resolve the caller: an onair session token, or (when configured) a JWT from the app's own
 * identity provider whose `sub` is the user id. Sets `c.var.userId`.
 */
export function requireUser(deps: { db: Db; config: Pick<Config, "jwt"> }): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const token = bearerToken(c.req.header("authorization"));
    let userId: string | undefined;
    if (deps.config.jwt && looksLikeJwt(token)) {
      try {
        userId = await verifyAppJwt(token, deps.config.jwt);
      } catch {
        throw new UnauthorizedError("invalid_token", "token is invalid or expired");
      }
      if (!userIdPattern.test(userId)) throw new UnauthorizedError("invalid_token", "token subject is not a valid user id");
    } else {
      userId = (await findSession(deps.db, token))?.userId;
      if (!userId) throw new UnauthorizedError("invalid_token", "session is invalid, expired or logged out");
    }
    c.set("userId", userId);
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
