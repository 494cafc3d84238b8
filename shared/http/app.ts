import { randomUUID } from "node:crypto";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { isStoreUnavailable } from "../db/transact.js";
import { isAppError, StoreUnavailableError } from "../errors/index.js";
import { createLogger } from "../log/index.js";
import { corsPolicy } from "./cors.js";
import { errorResponse } from "./envelope.js";
import { OpenApiApp } from "./route.js";

/** Largest JSON body any route accepts. @default 16 KiB */
export const maxBodyBytes = 16 * 1024;

function compilePath(path: string): RegExp {
  const pattern = path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/\/:[A-Za-z0-9_]+(\\\{[^}]*\\\})?/g, "/[^/]+");
  // Exact, as Hono routes: `/v1/rooms/` is no route (404), not a 405 that offers GET and then refuses it.
  return new RegExp(`^${pattern}$`);
}

/**
 * An HTTP function's app: OpenAPI routes with schema validation, the error envelope, request
 * ids and access logs, a body limit, and 404/405 for unknown routes and methods.
 */
export function createApp(options: {
  service: string;
  /** Browser origins allowed to call this function's app routes (CORS_ORIGINS). @default none */
  corsOrigins?: readonly string[];
}): OpenApiApp {
  const app = new OpenApiApp();

  app.use(async (c, next) => {
    const requestId = c.env?.requestId ?? randomUUID();
    const log = createLogger({ service: options.service, requestId });
    c.set("log", log);
    // Before the handler, so its response is built with it: set on a finished response, Hono rebuilds the whole response.
    c.header("x-request-id", requestId);
    const started = performance.now();
    await next();
    log.info("request", {
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      durationMs: Math.round((performance.now() - started) * 10) / 10,
      ...(c.var.userId ? { userId: c.var.userId } : {}),
    });
  });

  app.use(corsPolicy({ origins: options.corsOrigins ?? [], methodsAt: (path) => methodsAt(app, path) }));

  app.use(
    bodyLimit({
      maxSize: maxBodyBytes,
      onError: (c) => errorResponse(c, 413, "payload_too_large", `request body must be at most ${maxBodyBytes} bytes`),
    }),
  );

  app.onError((error, c) => {
    if (isAppError(error)) {
      if (error.status >= 500) c.var.log?.error("request failed", { error });
      return errorResponse(c, error.status, error.code, error.message, error.headers);
    }
    if (error instanceof HTTPException) {
      if (error.status === 415) return errorResponse(c, 415, "unsupported_media_type", "Content-Type must be application/json");
      if (/Malformed JSON/i.test(error.message)) return errorResponse(c, 400, "invalid_json", "request body is not valid JSON");
      return errorResponse(c, error.status, "bad_request", error.message);
    }
    if (isStoreUnavailable(error)) {
      // A read (or a write outside the transaction helper) that DynamoDB would not answer: the
      // caller can retry the same request, as the contract promises for the store's hiccups.
      const unavailable = new StoreUnavailableError(error);
      c.var.log?.warn("store unavailable", { error });
      return errorResponse(c, unavailable.status, unavailable.code, unavailable.message, unavailable.headers);
    }
    c.var.log?.error("unhandled error", { error });
    return errorResponse(c, 500, "internal_error", "something went wrong on our side; please retry");
  });

  app.notFound((c) => {
    const allowed = methodsAt(app, c.req.path);
    if (allowed.length > 0) {
      return errorResponse(c, 405, "method_not_allowed", `${c.req.method} is not allowed on ${c.req.path}`, { allow: allowed.join(", ") });
    }
    return errorResponse(c, 404, "route_not_found", `no route for ${c.req.method} ${c.req.path}`);
  });

  return app;
}

/** The methods the app's routes serve at `path`. */
function methodsAt(app: OpenApiApp, path: string): string[] {
  const methods = new Set<string>();
  for (const route of app.routes) if (route.method !== "ALL" && compilePath(route.path).test(path)) methods.add(route.method);
  return [...methods];
}
