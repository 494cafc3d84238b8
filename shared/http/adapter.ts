import { randomUUID } from "node:crypto";
import { httpToken, LightHeaders, valueBreak } from "./headers.js";
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

/**
 * An event no standard `Request` would take: answered 400 with `code` before the app sees it
 * (building a `Request` failed the invocation). Names are checked because lower-casing folds some
 * non-ASCII letters into ASCII ones (`\u212A` into `k`), which would let a header pass as
 * another one that a gateway rule names.
 */
export class InvalidEventError extends Error {
  override readonly name = "InvalidEventError";
  constructor(
    readonly code: "invalid_header" | "bad_request",
    message: string,
  ) {
    super(message);
  }
}

/**
 * The request headers of an SCF event, as `Headers` holds them, except that repeated values of
 * `cookie` join with "; " (as one Cookie header does) and of `set-cookie` with ", " (a request's
 * is no list).
 */
export class EventHeaders extends LightHeaders {
  override append(name: string, value: string): void {
    const key = name.toLowerCase();
    const before = key === "cookie" || key === "set-cookie" ? this.get(key) : null;
    if (before === null) super.append(name, value);
    else this.set(key, `${before}${key === "cookie" ? "; " : ", "}${LightHeaders.value(value)}`);
  }
}

/**
 * An SCF event as the parts of a `Request` Hono and onair read: `url`, `method`, `headers`, a
 * `body` that is null when there is none, and the body readers (`text`, `json`, `arrayBuffer`).
 * A standard `Request` cost about a tenth of a request's CPU (a body stream, an abort signal,
 * header checks) for an event whose body is whole already. What it lacks (`formData`, `blob`,
 * `signal`, `clone`, a readable stream as `body`) nothing here reads: code that needs one adds it.
 */
export class EventRequest {
  readonly headers = new EventHeaders();
  readonly url: string;
  readonly method: string;
  bodyUsed = false;
  private readonly bytes: Buffer | undefined;

  constructor(event: ScfHttpEvent) {
    this.method = (event.httpMethod || event.requestContext?.httpMethod || "GET").toUpperCase();
    if (!httpToken.test(this.method)) throw new InvalidEventError("bad_request", "the request method is not an HTTP token");
    for (const [name, value] of Object.entries(event.headers ?? {})) {
      if (value === undefined) continue;
      if (!httpToken.test(name)) throw new InvalidEventError("invalid_header", "a header name is not an HTTP token");
      for (const one of Array.isArray(value) ? value : [value]) {
        if (valueBreak.test(String(one))) throw new InvalidEventError("invalid_header", `header ${name.toLowerCase()} holds a line break or NUL`);
        this.headers.append(name, one);
      }
    }
    const host = this.headers.get("host") ?? "localhost";
    let url: URL;
    try {
      url = new URL(event.path || event.requestContext?.path || "/", `https://${host}`);
    } catch {
      throw new InvalidEventError("invalid_header", "the host header is not a host name");
    }
    if (url.username || url.password) throw new InvalidEventError("invalid_header", "the host header is not a host name");
    const query = event.queryString ?? event.queryStringParameters ?? {};
    for (const [name, value] of Object.entries(query)) {
      if (value === undefined) continue;
      for (const one of Array.isArray(value) ? value : [value]) url.searchParams.append(name, one);
    }
    this.url = url.href;
    // SCF hands the body as a string; anything else is no body a client could have sent.
    if (event.body != null && typeof event.body !== "string") throw new InvalidEventError("bad_request", "the event body is not a string");
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
    // As Node 20's Request.text() decodes it (SCF runs Node 20): UTF-8, up to two leading byte-order marks dropped.
    let text = this.read().toString("utf8");
    for (let marks = 0; marks < 2 && text.charCodeAt(0) === 0xfeff; marks++) text = text.slice(1);
    return text;
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
    const clientRequestId = firstValue(event.headers?.["x-request-id"]);
    const bindings: RequestBindings = {
      // A client's id only where it can go back in a header as it came.
      requestId: context?.request_id || (clientRequestId && /^[\x21-\x7e]{1,200}$/.test(clientRequestId) ? clientRequestId : randomUUID()),
      clientIp: event.requestContext?.sourceIp ?? platformAddedValue(event.headers?.["x-scf-remote-addr"]),
    };
    let request: EventRequest;
    try {
      request = eventToRequest(event);
    } catch (error) {
      if ((error as Error).name !== "InvalidEventError") throw error;
      const { code, message } = error as InvalidEventError;
      const body = JSON.stringify({ error: { code, message } });
      return { statusCode: 400, headers: { "content-type": "application/json", "x-request-id": bindings.requestId }, body, isBase64Encoded: false };
    }
    // Hono reads only what EventRequest has (tests load every route through it).
    return responseToResult(await app.fetch(request as unknown as Request, bindings));
  };
}
