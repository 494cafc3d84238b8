/**
 * @smithy/core's UUID v4 (the retry middleware's invocation id) on node:crypto's randomUUID.
 * Its own `bindV4` tests the global `crypto` when the bundle loads, which makes Node load its
 * Web Crypto implementation at every cold start; nothing a request runs needs it (jose loads it
 * with the first app JWT).
 */
import { randomUUID } from "node:crypto";

export const bindV4 = (_getRandomValues: unknown): (() => string) => randomUUID;
