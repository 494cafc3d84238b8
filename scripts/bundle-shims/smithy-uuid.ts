/**
 * @smithy/core's UUID v4 maker, on node:crypto's randomUUID. Its own `bindV4` tests the global
 * `crypto` when the bundle loads, which makes Node load its Web Crypto at every cold start. In
 * onair's DynamoDB client nothing calls the UUID (the retry middleware adds its invocation id only
 * to the SDK's own request objects), so the point is that load-time test; Web Crypto loads with
 * the first app JWT (jose) or the first cloud call (the Tencent SDK's tslib reads every export
 * of node:crypto) instead.
 */
import { randomUUID } from "node:crypto";

export const bindV4 = (_getRandomValues: unknown): (() => string) => randomUUID;
