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

const httpToken = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const valueBreak = /[\r\n\0]/;
const trimmed = (value: string) => value.replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, "");

type HeadersLike = LightHeaders | Iterable<readonly [string, string]> | Record<string, string | readonly string[]>;

export class LightHeaders {
  private readonly fields = new Map<string, string>();
  private cookies: string[] = [];

  constructor(init?: HeadersLike | null) {
    if (init == null) return;
    if (init instanceof LightHeaders) {
      for (const [name, value] of init.fields) this.fields.set(name, value);
      this.cookies = [...init.cookies];
    } else if (Symbol.iterator in init) {
      for (const pair of init as Iterable<readonly [string, string]>) {
        if (pair.length !== 2) throw new TypeError("Headers constructor: expected name/value pair to be length 2");
        this.append(pair[0], pair[1]);
      }
    } else {
      for (const [name, value] of Object.entries(init)) this.append(name, String(value));
    }
  }

  private static key(name: string): string {
    if (!httpToken.test(name)) throw new TypeError(`Headers: invalid header name ${JSON.stringify(name)}`);
    return name.toLowerCase();
  }
  private static value(value: string): string {
    const normalized = trimmed(String(value));
    if (valueBreak.test(normalized)) throw new TypeError("Headers: a header value holds CR, LF or NUL");
    return normalized;
  }

  get(name: string): string | null {
    const key = LightHeaders.key(name);
    if (key === "set-cookie") return this.cookies.length ? this.cookies.join(", ") : null;
    return this.fields.get(key) ?? null;
  }
  has(name: string): boolean {
    const key = LightHeaders.key(name);
    return key === "set-cookie" ? this.cookies.length > 0 : this.fields.has(key);
  }
  set(name: string, value: string): void {
    const key = LightHeaders.key(name);
    if (key === "set-cookie") this.cookies = [LightHeaders.value(value)];
    else this.fields.set(key, LightHeaders.value(value));
  }
  append(name: string, value: string): void {
    const key = LightHeaders.key(name);
    const normalized = LightHeaders.value(value);
    if (key === "set-cookie") this.cookies.push(normalized);
    else {
      const before = this.fields.get(key);
      this.fields.set(key, before === undefined ? normalized : `${before}, ${normalized}`);
    }
  }
  delete(name: string): void {
    const key = LightHeaders.key(name);
    if (key === "set-cookie") this.cookies = [];
    else this.fields.delete(key);
  }
  getSetCookie(): string[] {
    return [...this.cookies];
  }
  /** Sorted by name, each `set-cookie` on its own, as `Headers` iterates. */
  entries(): IterableIterator<[string, string]> {
    const all: [string, string][] = [...this.fields];
    for (const cookie of this.cookies) all.push(["set-cookie", cookie]);
    return all.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))[Symbol.iterator]();
  }
  keys(): IterableIterator<string> {
    return [...this.entries()].map(([name]) => name)[Symbol.iterator]();
  }
  values(): IterableIterator<string> {
    return [...this.entries()].map(([, value]) => value)[Symbol.iterator]();
  }
  forEach(callback: (value: string, name: string, headers: LightHeaders) => void): void {
    for (const [name, value] of this.entries()) callback(value, name, this);
  }
  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }
}

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
