import { randomUUID } from "node:crypto";
import type { ScfContext, ScfHttpEvent, ScfHttpResult } from "./scf.js";

/** What the adapter hands the app besides the request (Hono `c.env`). */
export interface RequestBindings {
  requestId: string;
  clientIp?: string;
}

type FetchApp = { fetch: (request: Request, env: RequestBindings) => Response | Promise<Response> };

/**
 * The value the platform added to a header a client may also send: the last one, whether the
 * header arrives repeated or comma-joined, so a client's own `x-scf-remote-addr` cannot pick
 * its rate-limit bucket.
 */
function platformAddedValue(value: string | string[] | undefined): string | undefined {
  const last = Array.isArray(value) ? value.at(-1) : value;
  return last?.split(",").at(-1)?.trim() || undefined;
}

function firstValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Turn a Function URL (or legacy API Gateway) event into a standard `Request`. */
export function eventToRequest(event: ScfHttpEvent): Request {
  const method = (event.httpMethod || event.requestContext?.httpMethod || "GET").toUpperCase();
  const headers = new Headers();
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) headers.append(name, one);
  }
  const host = headers.get("host") ?? "localhost";
  const url = new URL(event.path || event.requestContext?.path || "/", `https://${host}`);
  const query = event.queryString ?? event.queryStringParameters ?? {};
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) url.searchParams.append(name, one);
  }
  let body: string | Buffer | undefined;
  // An empty body is none: a Request streams even "" and the body limit would read it.
  if (event.body && method !== "GET" && method !== "HEAD") {
    body = event.isBase64Encoded ? Buffer.from(event.body, "base64") : event.body;
    // The body is whole already, so its own length replaces the client's framing headers: the body
    // limit trusts content-length (a stated 10 bytes let 17 KB through), and a stated length
    // spares it reading the body through and copying it into a new Request.
    headers.delete("transfer-encoding");
    headers.set("content-length", String(Buffer.byteLength(body)));
  }
  return new Request(url, { method, headers, body });
}

/** Turn a `Response` into the integrated response SCF sends back to the caller. */
export async function responseToResult(response: Response): Promise<ScfHttpResult> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  return { statusCode: response.status, headers, body: await response.text(), isBase64Encoded: false };
}

/**
 * The `main_handler` of an HTTP function: event in, integrated response out. The same app
 * object serves the local stack, so what runs locally is what runs on SCF.
 */
export function createScfHandler(app: FetchApp) {
  return async function main_handler(event: ScfHttpEvent, context?: ScfContext): Promise<ScfHttpResult> {
    const request = eventToRequest(event);
    const bindings: RequestBindings = {
      requestId: context?.request_id || firstValue(event.headers?.["x-request-id"]) || randomUUID(),
      clientIp: event.requestContext?.sourceIp ?? platformAddedValue(event.headers?.["x-scf-remote-addr"]),
    };
    return responseToResult(await app.fetch(request, bindings));
  };
}
