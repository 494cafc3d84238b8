/**
 * node-fetch for tencentcloud-sdk-nodejs, on the runtime's own fetch. The SDK passes node-fetch
 * options: `timeout` (ms) becomes an abort signal; `agent` and `proxy` have no meaning for the
 * built-in fetch and are dropped (so `http_proxy` no longer hijacks loopback calls either).
 * Keeps node-fetch, whatwg-url, tr46 and their 300 KB out of every bundle.
 */
type NodeFetchOptions = RequestInit & { timeout?: number; agent?: unknown; proxy?: unknown };

export default function fetchWithTimeout(url: string, options: NodeFetchOptions = {}): Promise<Response> {
  const { timeout, agent: _agent, proxy: _proxy, signal, ...init } = options;
  if (!timeout) return fetch(url, { ...init, signal });
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`network timeout after ${timeout} ms at ${url}`)), timeout);
  signal?.addEventListener("abort", () => controller.abort(signal.reason), { once: true });
  return fetch(url, { ...init, signal: controller.signal }).finally(() => clearTimeout(timer));
}
