import { randomBytes, randomInt, randomUUID } from "node:crypto";
import { request as httpRequest } from "node:http";
import { GetCommand, QueryCommand } from "../shared/db/commands.js";
import { SignJWT } from "jose";
import { inject } from "vitest";
import { getConfig } from "../shared/config/index.js";
import { aggregate, flushLeaseMs, pendingGiftKey, type BroadcastStore, type InflightBatch, type PendingGift } from "../shared/broadcasts/index.js";
import { batchGet, createDb } from "../shared/db/index.js";
import { createLogger } from "../shared/log/index.js";
import { dueKey, outboxShards, runOutbox, type OutboxEntry } from "../shared/outbox/index.js";
import { createTencentDeps } from "../shared/tencent/index.js";
import type { EmulatorState, Fault } from "../scripts/emulator/server.js";
import { contractProblem } from "./contract.js";
import { testJwtSecret } from "./jwt-secret.js";

/** A user id no other test uses. */
export const uniqueUserId = (prefix = "u") => `${prefix}_${randomBytes(6).toString("hex")}`;

export const stackUrl = () => inject("stackUrl");

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

/**
 * Every answer a test reads through these helpers is held to the OpenAPI document: a status or
 * error code it does not list fails the test that met it.
 */
function documented<T>(method: string, path: string, response: ApiResponse<T>): ApiResponse<T> {
  const problem = contractProblem(method, new URL(path, "http://stack").pathname, response.status, response.body);
  if (problem) throw new Error(`contract drift: ${problem}`);
  return response;
}

/** Call the local stack over HTTP as an app would. */
export async function api<T = any>(
  method: string,
  path: string,
  options: { body?: unknown; rawBody?: string; token?: string; headers?: Record<string, string> } = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined = options.rawBody;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers["content-type"] ??= "application/json";
  }
  const response = await fetch(stackUrl() + path, { method, headers, body });
  const text = await response.text();
  return documented(method, path, { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined });
}

/**
 * Call the local stack from another loopback address (127.0.0.2, ...), so the stack sees a
 * different client IP, as requests from different networks would reach a Function URL.
 */
export function apiFrom<T = any>(localAddress: string, method: string, path: string, options: { body?: unknown; token?: string } = {}): Promise<ApiResponse<T>> {
  const url = new URL(stackUrl() + path);
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers: Record<string, string> = payload ? { "content-type": "application/json" } : {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, path: url.pathname + url.search, method, headers, localAddress }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        const responseHeaders = new Headers();
        for (const [name, value] of Object.entries(res.headers)) if (typeof value === "string") responseHeaders.set(name, value);
        try {
          resolve(documented(method, path, { status: res.statusCode ?? 0, headers: responseHeaders, body: text ? JSON.parse(text) : undefined }));
        } catch (error) {
          reject(error);
        }
      });
    });
    req.on("error", reject);
    req.end(payload);
  });
}

/** Register and log in a fresh user; returns its id, password and session token. */
export async function newUser(prefix = "u"): Promise<{ userId: string; password: string; token: string }> {
  const userId = uniqueUserId(prefix);
  const password = `pw-${randomBytes(8).toString("hex")}`;
  const registered = await api("POST", "/v1/accounts", { body: { userId, password } });
  if (registered.status !== 201) throw new Error(`register failed: ${JSON.stringify(registered.body)}`);
  const login = await api("POST", "/v1/sessions", { body: { userId, password } });
  if (login.status !== 201) throw new Error(`login failed: ${JSON.stringify(login.body)}`);
  return { userId, password, token: login.body.token };
}

/** A user of the app's own identity provider: a signed JWT whose sub is the user id. */
export async function jwtUser(prefix = "v"): Promise<{ userId: string; token: string }> {
  return jwtUserNamed(uniqueUserId(prefix));
}

/** The same, for a user id the test chooses. */
export async function jwtUserNamed(userId: string): Promise<{ userId: string; token: string }> {
  const token = await new SignJWT({}).setProtectedHeader({ alg: "HS256" }).setSubject(userId).setIssuedAt().setExpirationTime("1h").sign(new TextEncoder().encode(testJwtSecret));
  return { userId, token };
}

export const emulatorUrl = () => inject("emulatorUrl");

export async function emulatorState(): Promise<EmulatorState> {
  return (await fetch(`${emulatorUrl()}/_state`)).json() as Promise<EmulatorState>;
}

/** Arm a fault in the emulator; returns a function that disarms it. */
export async function injectFault(fault: Fault): Promise<() => Promise<void>> {
  const response = await fetch(`${emulatorUrl()}/_control/faults`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(fault) });
  const { id } = (await response.json()) as { id: string };
  return async () => void (await fetch(`${emulatorUrl()}/_control/faults/${id}`, { method: "DELETE" }));
}

/** What the DynamoDB fault proxy takes (README "DynamoDB fault mode"); `{}` turns faults off. */
/**
 * A callback gift's charge stands exactly when onair took IM's delivery report (README "Gifts in
 * the IM before-send callback"): a message IM delivered whose every report onair failed to
 * record is refunded. True for the emulator's answer to a client's send when it was delivered
 * and a report was acknowledged.
 */
export function chargeStands(sent: { delivered: boolean; afterSend?: { status: number; reply: unknown }[] }): boolean {
  return sent.delivered && (sent.afterSend ?? []).some((report) => report.status === 200 && (report.reply as { ErrorCode?: unknown } | null)?.ErrorCode === 0);
}

export type DynamoDbFaultSettings = { throttle?: number; lost?: number; cut?: number; conflict?: number; match?: string[]; sequence?: string[]; operations?: string[]; slowMs?: number };

/** Switch the local stack's DynamoDB faults; the faults injected so far come back. */
export async function setDynamoDbFaults(faults: DynamoDbFaultSettings): Promise<{ injected: Record<string, number> }> {
  const response = await fetch(`${emulatorUrl()}/_control/dynamodb/faults`, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify(faults) });
  if (response.status !== 200) throw new Error(`the fault proxy refused ${JSON.stringify(faults)}: ${response.status} ${await response.text()}`);
  return response.json() as Promise<{ injected: Record<string, number> }>;
}

/** A client that retries 409 + Retry-After and 5xx answers with the same request (and key), honouring Retry-After. */
export async function withClientRetries(call: () => Promise<ApiResponse>, attempts = 12): Promise<ApiResponse> {
  let last: ApiResponse | undefined;
  for (let attempt = 0; attempt < attempts; attempt++) {
    last = await call();
    const retryable = last.status >= 500 || (last.status === 409 && last.headers.get("retry-after") !== null);
    if (!retryable) return last;
    await new Promise((resolve) => setTimeout(resolve, Math.min(300, Number(last!.headers.get("retry-after") ?? 0) * 100) + Math.random() * 100));
  }
  return last!;
}

export async function startPushing(streamName: string): Promise<void> {
  await fetch(`${emulatorUrl()}/_control/streams`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ streamName, domainName: process.env.CSS_PUSH_DOMAIN }),
  });
}

/** Direct reads of the test run's DynamoDB Local, to assert what was (not) written. */
export const testDb = () => createDb(getConfig());
export async function getItem(key: { pk: string; sk: string }): Promise<Record<string, any> | undefined> {
  const db = testDb();
  const { Item } = await db.doc.send(new GetCommand({ TableName: db.table, Key: key, ConsistentRead: true }));
  db.doc.destroy();
  return Item;
}

/**
 * Run every pending outbox entry of these rooms now, whatever its due time, as the sweeper
 * would once it is due; entries of other tests' rooms are left alone. Returns how many ran.
 */
export async function drainOutbox(roomIds: number[]): Promise<number> {
  const db = testDb();
  const rooms = new Set(roomIds);
  const keys = [];
  for (let shard = 0; shard < outboxShards; shard++) {
    let start: Record<string, unknown> | undefined;
    do {
      const page = await db.doc.send(
        new QueryCommand({
          TableName: db.table,
          IndexName: "gsi1",
          KeyConditionExpression: "gsi1pk = :pk AND gsi1sk < :end",
          ExpressionAttributeValues: { ":pk": `OUTBOX#${shard}`, ":end": dueKey(Date.now() + 365 * 86_400_000, "~") },
          ExclusiveStartKey: start,
        }),
      );
      keys.push(...(page.Items ?? []).map((item) => ({ pk: String(item.pk), sk: String(item.sk) })));
      start = page.LastEvaluatedKey;
    } while (start);
  }
  const entries = (await batchGet(db, keys, true)).filter((item) => item.status === "pending" && rooms.has(Number(item.roomId))) as unknown as (OutboxEntry & { attempts: number })[];
  const log = createLogger({ service: "test" });
  // A group is destroyed after its notices (a destroy waits while they are pending).
  entries.sort((a, b) => Number(a.command.kind === "destroyGroup") - Number(b.command.kind === "destroyGroup"));
  for (const entry of entries) await runOutbox(db, createTencentDeps(getConfig()), [entry], log, entry.attempts);
  db.doc.destroy();
  return entries.length;
}

/**
 * Another flusher's claim on a room's pending gifts, made at `at`: their message recorded on the
 * flush state (marked taken by IM when `delivered`), its lease held by `owner` until `at` + the lease.
 */
export async function recordClaim(store: BroadcastStore, roomId: number, gifts: PendingGift[], owner: string, at: number, delivered = false): Promise<InflightBatch> {
  const batch: InflightBatch = {
    id: randomUUID(),
    random: randomInt(0, 2 ** 32 - 1),
    message: aggregate(roomId, gifts).message,
    priority: "Normal",
    gifts: gifts.map((gift) => pendingGiftKey(roomId, gift.giftKey, gift.createdAt).sk),
    ...(delivered ? { delivered } : {}),
  };
  const state = await store.flushState(roomId);
  const written = await store.write(roomId, state?.version, { inflight: batch, owner, leaseUntil: at + flushLeaseMs, nextSendAt: at, intervalMs: 500 }, at);
  if (!written.ok) throw new Error(`the flush state of room ${roomId} changed under the test's claim`);
  return batch;
}
