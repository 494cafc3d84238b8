/**
 * `Headers` as onair's light request and response hold them (shared/http/adapter.ts,
 * scripts/bundle-shims/light-response.ts): names are HTTP tokens, compared lower-cased; values are
 * trimmed and hold no CR, LF or NUL; repeated values join with ", "; `set-cookie` stays a list;
 * iteration is sorted by name. test/unit/bundle-shims.test.ts holds it to undici's `Headers`.
 */

/** An HTTP token: what a header name and a method must be (RFC 9110). */
export const httpToken = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** What no header value may hold: it would end the header, or the field, where it stands. */
export const valueBreak = /[\r\n\0]/;
/** A header value without the whitespace around it, as `Headers` keeps it. */
const trimmed = (value: string) => value.replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, "");

export type HeadersLike = LightHeaders | Iterable<readonly [string, string]> | Record<string, string | readonly string[]>;

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
  protected static value(value: string): string {
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
