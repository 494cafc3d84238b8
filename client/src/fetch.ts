import { OnairTimeoutError } from "./errors.js";
import { functionOfPath } from "./generated/functions.js";

export type FunctionName = (typeof functionOfPath)[keyof typeof functionOfPath];

export interface RetryOptions {
  /** Attempts after the first. @default 3 */
  retries?: number;
  /** First backoff; it doubles per attempt, with full jitter. @default 200 */
  baseDelayMs?: number;
  /** Longest wait between attempts, also for a longer Retry-After. @default 5000 */
  maxDelayMs?: number;
}

export interface TransportOptions {
  /** One gateway URL in front of every function (`https://api.example.com`). */
  baseUrl?: string;
  /** Each function's own Function URL; a function not named here goes to `baseUrl`. */
  functionUrls?: Partial<Record<FunctionName, string>>;
  /** Whole-call deadline, retries and waits included. @default 10000 */
  timeoutMs?: number;
  retry?: RetryOptions;
  /** A fetch of your platform's (a mini-program's request wrapped as fetch). @default globalThis.fetch */
  fetch?: typeof fetch;
}

/** Where the client sends a path when only `functionUrls` are given. Never contacted. */
export const placeholderBase = "http://onair.invalid";

const templates = Object.entries(functionOfPath).map(([template, name]) => ({
  name: name as FunctionName,
  pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, "[^/]+")}$`),
  literals: template.split("/").filter((segment) => segment && !segment.startsWith("{")).length,
}));

function functionOf(path: string): FunctionName | undefined {
  return templates.filter((entry) => entry.pattern.test(path)).sort((a, b) => b.literals - a.literals)[0]?.name;
}

/**
 * A repeat is safe when the request cannot act twice: reads, deletes, and calls that carry an
 * Idempotency-Key. Those are retried on any 5xx and on a dropped connection; other calls only
 * when the server said nothing happened (409 with Retry-After, 429, 503).
 */
function safeToRepeat(request: Request): boolean {
  return ["GET", "HEAD", "DELETE", "PUT"].includes(request.method) || request.headers.has("idempotency-key");
}

function retryable(request: Request, response: Response): boolean {
  if (response.status === 429 || response.status === 503) return true;
  if (response.status === 409) return response.headers.has("retry-after");
  return response.status >= 500 && safeToRepeat(request);
}

/** A promise that only ever rejects, with `signal`'s reason, once it aborts. */
function rejectOnAbort(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) return reject(signal.reason);
    signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
}

/** Wait `ms`, or reject as soon as `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * The fetch openapi-fetch calls: sends each path to its function's URL, stops at the deadline or
 * the caller's signal, and repeats what is safe to repeat with backoff. A repeat sends the same
 * bytes and headers, so a gift's Idempotency-Key is the same on every attempt.
 */
export function createTransport(options: TransportOptions): (request: Request) => Promise<Response> {
  const send = options.fetch ?? globalThis.fetch.bind(globalThis);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const retries = options.retry?.retries ?? 3;
  const baseDelayMs = options.retry?.baseDelayMs ?? 200;
  const maxDelayMs = options.retry?.maxDelayMs ?? 5_000;
  const base = (options.baseUrl ?? placeholderBase).replace(/\/+$/, "");

  const target = (url: string): string => {
    const relative = url.startsWith(base) ? url.slice(base.length) : url;
    const path = relative.split("?")[0]!;
    const name = functionOf(path);
    const functionUrl = name && options.functionUrls?.[name];
    if (functionUrl) return functionUrl.replace(/\/+$/, "") + relative;
    if (base === placeholderBase) throw new Error(`no base URL for ${path}: set baseUrl or functionUrls.${name ?? "?"}`);
    return url;
  };

  return async (request) => {
    const url = target(request.url);
    const body = request.body === null ? undefined : await request.arrayBuffer();
    const deadline = new AbortController();
    const deadlineAt = Date.now() + timeoutMs;
    const timer = setTimeout(() => deadline.abort(new OnairTimeoutError(timeoutMs)), timeoutMs);
    const abort = () => deadline.abort(request.signal.reason);
    if (request.signal.aborted) abort();
    request.signal.addEventListener("abort", abort, { once: true });
    try {
      for (let attempt = 0; ; attempt++) {
        let response: Response;
        try {
          response = await send(url, { method: request.method, headers: request.headers, body, signal: deadline.signal, redirect: request.redirect });
        } catch (error) {
          if (deadline.signal.aborted) throw deadline.signal.reason;
          if (attempt >= retries || !safeToRepeat(request)) throw error;
          await sleep(backoff(attempt), deadline.signal);
          continue;
        }
        if (deadline.signal.aborted) throw deadline.signal.reason;
        const retryAfterMs = Number(response.headers.get("retry-after")) * 1000;
        // A server asking for a longer wait than this call has left is answered as it is: the caller sees its code and Retry-After.
        if (attempt >= retries || !retryable(request, response) || (retryAfterMs > 0 && Date.now() + retryAfterMs >= deadlineAt)) return await buffered(response, deadline.signal);
        // Read and drop the body, so the connection is free for the next attempt.
        await response.arrayBuffer().catch(() => undefined);
        await sleep(retryAfterMs > 0 ? Math.min(retryAfterMs, maxDelayMs) : backoff(attempt), deadline.signal);
      }
    } finally {
      clearTimeout(timer);
      request.signal.removeEventListener("abort", abort);
    }
  };

  /** The answer with its body read while the deadline and the caller's signal still hold. */
  async function buffered(response: Response, signal: AbortSignal): Promise<Response> {
    const content = response.status === 204 || response.status === 304 ? null : await Promise.race([response.arrayBuffer(), rejectOnAbort(signal)]);
    return new Response(content, { status: response.status, statusText: response.statusText, headers: response.headers });
  }

  function backoff(attempt: number): number {
    return Math.random() * Math.min(maxDelayMs, baseDelayMs * 2 ** attempt);
  }
}
