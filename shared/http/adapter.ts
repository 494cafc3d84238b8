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

/** A header value without the whitespace around it, as `Headers` keeps it. */
const trimmed = (value: string) => String(value).replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, "");

/**
 * The request headers of an SCF event, as the parts of `Headers` Hono and onair read: names
 * lower-cased, repeated values joined with ", ".
 */
export class EventHeaders {
  private readonly values = new Map<string, string>();

  get(name: string): string | null {
    return this.values.get(name.toLowerCase()) ?? null;
  }
  has(name: string): boolean {
    return this.values.has(name.toLowerCase());
  }
  set(name: string, value: string): void {
    this.values.set(name.toLowerCase(), trimmed(value));
  }
  append(name: string, value: string): void {
    const key = name.toLowerCase();
    const before = this.values.get(key);
    this.values.set(key, before === undefined ? trimmed(value) : `${before}, ${trimmed(value)}`);
  }
  delete(name: string): void {
    this.values.delete(name.toLowerCase());
  }
  forEach(callback: (value: string, name: string, headers: EventHeaders) => void): void {
    for (const [name, value] of this.entries()) callback(value, name, this);
  }
  /** Sorted by name, as `Headers` iterates. */
  entries(): IterableIterator<[string, string]> {
    return [...this.values].sort(([a], [b]) => (a < b ? -1 : 1))[Symbol.iterator]();
  }
  keys(): IterableIterator<string> {
    return [...this.entries()].map(([name]) => name)[Symbol.iterator]();
  }
  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }
}

/**
 * An SCF event as the parts of a `Request` Hono and onair read: `url`, `method`, `headers`, a
 * `body` that is null when there is none, and the body readers (`text`, `json`, `arrayBuffer`).
 * A standard `Request` cost about a tenth of a request's CPU (a body stream, an abort signal,
 * header checks) for an event whose body is whole already.
 */
export class EventRequest {
  readonly headers = new EventHeaders();
  readonly url: string;
  readonly method: string;
  bodyUsed = false;
  private readonly bytes: Buffer | undefined;

  constructor(event: ScfHttpEvent) {
    this.method = (event.httpMethod || event.requestContext?.httpMethod || "GET").toUpperCase();
    for (const [name, value] of Object.entries(event.headers ?? {})) {
      if (value === undefined) continue;
      for (const one of Array.isArray(value) ? value : [value]) this.headers.append(name, one);
    }
    const url = new URL(event.path || event.requestContext?.path || "/", `https://${this.headers.get("host") ?? "localhost"}`);
    const query = event.queryString ?? event.queryStringParameters ?? {};
    for (const [name, value] of Object.entries(query)) {
      if (value === undefined) continue;
      for (const one of Array.isArray(value) ? value : [value]) url.searchParams.append(name, one);
    }
    this.url = url.href;
    // An empty body is none: the body limit and the JSON check then have nothing to read.
    if (event.body && this.method !== "GET" && this.method !== "HEAD") {
      this.bytes = event.isBase64Encoded ? Buffer.from(event.body, "base64") : Buffer.from(event.body, "utf8");
      // The body is whole already, so its own length replaces the client's framing headers: the body
      // limit trusts content-length (a stated 10 bytes let 17 KB through).
      this.headers.delete("transfer-encoding");
      this.headers.set("content-length", String(this.bytes.length));
    }
  }

  /** Non-null when there is a body (the body limit and the JSON check only test it). */
  get body(): Uint8Array | null {
    return this.bytes ?? null;
  }

  async text(): Promise<string> {
    // As a Request decodes it: UTF-8, a leading byte-order mark dropped.
    const text = this.read().toString("utf8");
    return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  }
  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }
  async arrayBuffer(): Promise<ArrayBuffer> {
    const bytes = this.read();
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  }

  private read(): Buffer {
    if (this.bodyUsed) throw new TypeError("Body is unusable: Body has already been read");
    this.bodyUsed = true;
    return this.bytes ?? Buffer.alloc(0);
  }
}

/** Turn a Function URL (or legacy API Gateway) event into the request the app reads. */
export function eventToRequest(event: ScfHttpEvent): EventRequest {
  return new EventRequest(event);
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
    // Hono reads only what EventRequest has (tests load every route through it).
    return responseToResult(await app.fetch(request as unknown as Request, bindings));
  };
}
