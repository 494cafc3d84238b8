import { createServer, type IncomingMessage, type Server } from "node:http";
import type { ScfHttpEvent, ScfHttpResult } from "../../shared/http/index.js";

export type HttpHandler = (event: ScfHttpEvent, context: { request_id: string }) => Promise<ScfHttpResult>;

/** Bytes read from a socket before giving up; the apps enforce their own, smaller limit. */
const maxSocketBodyBytes = 1024 * 1024;

/** Build the Function URL event SCF would deliver for this request. */
export function toScfEvent(request: IncomingMessage, body: Buffer, remoteAddress: string): ScfHttpEvent {
  const url = new URL(request.url ?? "/", "http://local");
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
  }
  headers["x-scf-remote-addr"] = remoteAddress;
  const queryString: Record<string, string | string[]> = {};
  for (const name of new Set(url.searchParams.keys())) {
    const values = url.searchParams.getAll(name);
    queryString[name] = values.length === 1 ? values[0]! : values;
  }
  const text = body.toString("utf8");
  // Function URLs pass text bodies as-is; anything that is not valid UTF-8 arrives base64-encoded.
  const isText = Buffer.from(text, "utf8").equals(body);
  return {
    httpMethod: request.method ?? "GET",
    path: url.pathname,
    headers,
    queryString,
    body: body.length === 0 ? "" : isText ? text : body.toString("base64"),
    isBase64Encoded: body.length > 0 && !isText,
  };
}

/**
 * One HTTP port for every function, as a deployment's domain would route `/v1/...` by prefix:
 * each request becomes an SCF event and goes through the function's own `main_handler`.
 */
export function createLocalServer(route: (path: string) => HttpHandler | undefined, extras: (path: string, method: string) => ScfHttpResult | undefined): Server {
  let counter = 0;
  return createServer((request, response) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxSocketBodyBytes) chunks.push(chunk);
    });
    request.on("end", async () => {
      const path = new URL(request.url ?? "/", "http://local").pathname;
      let result: ScfHttpResult | undefined = extras(path, request.method ?? "GET");
      try {
        if (!result && size > maxSocketBodyBytes) {
          result = envelope(413, "payload_too_large", `request body must be at most ${maxSocketBodyBytes} bytes`);
        }
        if (!result) {
          const handler = route(path);
          result = handler
            ? await handler(toScfEvent(request, Buffer.concat(chunks), request.socket.remoteAddress ?? "127.0.0.1"), {
                request_id: `local-${process.pid}-${++counter}`,
              })
            : envelope(404, "route_not_found", `no route for ${request.method} ${path}`);
        }
      } catch (error) {
        console.error(error);
        result = envelope(500, "internal_error", "the function crashed; see the stack's output");
      }
      const body = result.isBase64Encoded ? Buffer.from(result.body, "base64") : result.body;
      response.writeHead(result.statusCode, result.headers);
      response.end(body);
    });
  });
}

export function envelope(statusCode: number, code: string, message: string): ScfHttpResult {
  return { statusCode, headers: { "content-type": "application/json" }, body: JSON.stringify({ error: { code, message } }), isBase64Encoded: false };
}
