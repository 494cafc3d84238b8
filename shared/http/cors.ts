import type { Context, MiddlewareHandler } from "hono";

/** Paths a browser never calls: platform callbacks and operator routes answer no origin. */
const closedToBrowsers = /^\/v1\/(callbacks|admin)\//;

/** Request headers an app's page may send. */
const allowedRequestHeaders = ["authorization", "content-type", "idempotency-key", "x-request-id"];

/** Response headers a page may read: retry hints, idempotent replays and the request id for support. */
export const exposedResponseHeaders = ["retry-after", "idempotent-replayed", "x-request-id"];

/** Seconds a browser may cache a preflight answer. @default 600 */
const preflightMaxAgeSeconds = 600;

export interface CorsPolicy {
  /** Allowed origins (`https://app.example.com`); `*` allows every one. Empty: none. */
  origins: readonly string[];
  /** The methods served at a path; empty when no route matches. */
  methodsAt: (path: string) => string[];
}

/**
 * Browsers are let in by an allow-list, never by default. A preflight from an allowed origin
 * for an app route is answered 204 with the route's methods; one from any other origin, or for
 * a callback or admin route, is refused with 403 and no CORS headers, so the browser blocks the
 * call. Simple requests from other origins are served without CORS headers, so their page cannot
 * read the answer.
 */
export function corsPolicy(policy: CorsPolicy): MiddlewareHandler {
  const allowAll = policy.origins.includes("*");
  const allowedOrigin = (c: Context): string | undefined => {
    const origin = c.req.header("origin");
    if (!origin || closedToBrowsers.test(c.req.path)) return undefined;
    if (allowAll) return "*";
    return policy.origins.includes(origin) ? origin : undefined;
  };

  return async (c, next) => {
    const isPreflight = c.req.method === "OPTIONS" && c.req.header("access-control-request-method") !== undefined;
    const origin = allowedOrigin(c);
    if (isPreflight) {
      const methods = policy.methodsAt(c.req.path);
      if (methods.length === 0) return next();
      if (!origin) {
        return c.json({ error: { code: "origin_not_allowed", message: `origin ${c.req.header("origin") ?? "(none)"} may not call ${c.req.path} from a browser` } }, 403);
      }
      return c.body(null, 204, {
        "access-control-allow-origin": origin,
        "access-control-allow-methods": methods.join(", "),
        "access-control-allow-headers": allowedRequestHeaders.join(", "),
        "access-control-max-age": String(preflightMaxAgeSeconds),
        vary: "Origin",
      });
    }
    // Before the handler, so its response is built with them: set on a finished response, Hono rebuilds the whole response.
    // Every answer to a page depends on its origin, refused or not: shared caches must key on it.
    if (c.req.header("origin") && !closedToBrowsers.test(c.req.path)) c.header("vary", "Origin", { append: true });
    if (origin) {
      c.header("access-control-allow-origin", origin);
      c.header("access-control-expose-headers", exposedResponseHeaders.join(", "));
    }
    await next();
  };
}
