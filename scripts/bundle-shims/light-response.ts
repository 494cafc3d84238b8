/**
 * `Response` and `Headers` for Hono inside the function bundles (the build puts them in scope of
 * Hono's modules only: `honoResponsePlugin` in scripts/build.ts). Hono builds every answer with
 * the global `Response`, and the SCF adapter reads it back whole (`responseToResult`). Node's
 * `Response` is undici's: its first use in a process loads undici's fetch (30-50 ms of a cold
 * start's first request), and each answer builds a body stream to be read back at once (about a
 * tenth of a request's CPU). These keep what Hono and the adapter use, with the same rules:
 * header names are HTTP tokens, values are trimmed and hold no CR, LF or NUL, `set-cookie` stays a
 * list, a string body without a type is `text/plain;charset=UTF-8`, 204/205/304 carry no body,
 * a status is 200-599, a body is read once. What they lack (a stream as body, `formData`, `blob`)
 * throws; test/unit/bundle-shims.test.ts holds them to undici's classes.
 */

import { LightHeaders, type HeadersLike } from "../../shared/http/headers.js";

export { LightHeaders };

/** What a light response holds as its body: text or bytes, whole. */
type Body = string | Uint8Array;
type BodyInit = Body | ArrayBuffer | null | undefined;
interface ResponseInitLike {
  status?: number;
  statusText?: string;
  headers?: HeadersLike;
}

const nullBodyStatus = new Set([101, 103, 204, 205, 304]);

export class LightResponse {
  readonly status: number;
  readonly statusText: string;
  readonly headers: LightHeaders;
  readonly type = "default";
  readonly redirected = false;
  readonly url = "";
  bodyUsed = false;
  private readonly content: Body | null;

  constructor(body?: BodyInit, init: ResponseInitLike = {}) {
    const status = init.status ?? 200;
    if (!Number.isInteger(status) || status < 200 || status > 599) throw new RangeError(`init["status"] must be in the range of 200 to 599, inclusive.`);
    this.status = status;
    this.statusText = init.statusText ?? "";
    this.headers = new LightHeaders(init.headers);
    if (body instanceof ArrayBuffer) body = new Uint8Array(body);
    else if (body != null && typeof body !== "string" && !(body instanceof Uint8Array)) throw new TypeError("LightResponse: only text and bytes are supported as a body");
    this.content = body ?? null;
    if (this.content !== null && nullBodyStatus.has(status)) throw new TypeError("Response constructor: Invalid response status code " + status);
    if (typeof this.content === "string" && !this.headers.has("content-type")) this.headers.set("content-type", "text/plain;charset=UTF-8");
  }

  get ok(): boolean {
    return this.status >= 200 && this.status <= 299;
  }
  /** The body as given (Hono hands it to a new response when it copies one). */
  get body(): Body | null {
    return this.content;
  }

  async text(): Promise<string> {
    const body = this.read();
    return typeof body === "string" ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8");
  }
  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }
  async arrayBuffer(): Promise<ArrayBuffer> {
    const body = this.read();
    const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : body;
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  }
  clone(): LightResponse {
    if (this.bodyUsed) throw new TypeError("Response.clone: Body has already been consumed.");
    return new LightResponse(this.content, this);
  }

  /** The body, once; no body reads as empty as often as asked, as undici's does. */
  private read(): Body {
    if (this.content === null) return "";
    if (this.bodyUsed) throw new TypeError("Body is unusable: Body has already been read");
    this.bodyUsed = true;
    return this.content;
  }
}
