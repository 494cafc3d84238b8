import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { createUserSigApp } from "../../functions/usersig/app.js";
import { getConfig } from "../../shared/config/index.js";
import { maxBodyBytes } from "../../shared/http/index.js";
import { signImCallback, signTrtcCallback } from "../../shared/signatures/index.js";
import { documentedCodes, operations, type Operation } from "../contract.js";
import { api, jwtUser, jwtUserNamed, newUser, testDb, type ApiResponse } from "../helpers.js";

/**
 * Every 4xx the OpenAPI document lists is one a request can get: for each operation and each
 * documented 4xx status, a request below reaches it, and (through the test helpers) its answer
 * carries a code the document lists for that status. Codes that only a race or a DynamoDB fault
 * produces are reached by the fault and billing suites instead; a status listed only for them
 * is named here.
 */
const raceOnly = new Set(["store_busy", "wallet_busy", "room_busy", "request_in_progress"]);

type Call = () => Promise<ApiResponse>;
const adminKey = () => process.env.ONAIR_ADMIN_KEY!;
const json = { "content-type": "application/json" };

let token: string;
let hostToken: string;
let live: number;
let created: number;
let closed: number;

beforeAll(async () => {
  token = (await jwtUser("viewer")).token;
  const host = await jwtUser("host");
  hostToken = host.token;
  const room = async () => (await api("POST", "/v1/rooms", { token: hostToken, body: { title: "contract" } })).body.roomId as number;
  [live, created, closed] = [await room(), await room(), await room()];
  await api("POST", `/v1/rooms/${live}/live`, { token: hostToken });
  await api("POST", `/v1/rooms/${closed}/live`, { token: hostToken });
  await api("POST", `/v1/rooms/${closed}/close`, { token: hostToken });
});

const exampleOf = (operation: Operation) => operation.requestBody?.content["application/json"]?.example;

function pathOf(operation: Operation, values: { roomId?: number | string; userId?: string } = {}) {
  return operation.template
    .replace("{roomId}", String(values.roomId ?? live))
    .replace("{userId}", values.userId ?? "contract_user")
    .replace("{entryId}", "none");
}

/** The answer to an operation's own example request, changed in one way. */
function call(operation: Operation, change: { token?: string | null; admin?: string; path?: string; rawBody?: string; body?: unknown; headers?: Record<string, string> }): Call {
  const isAdmin = operation.template.startsWith("/v1/admin/");
  const headers = { ...(isAdmin ? { "x-admin-key": change.admin ?? adminKey() } : {}), "idempotency-key": randomUUID(), ...change.headers };
  const example = exampleOf(operation);
  return () =>
    api(operation.method, change.path ?? pathOf(operation), {
      token: change.token === null ? undefined : (change.token ?? token),
      headers,
      ...(change.rawBody !== undefined ? { rawBody: change.rawBody } : { body: change.body ?? example }),
    });
}

const isCallback = (operation: Operation) => operation.template.startsWith("/v1/callbacks/");
function paramPath(operation: Operation): string {
  if (operation.template.includes("{roomId}")) return pathOf(operation, { roomId: 0 });
  if (operation.template.includes("{userId}")) return pathOf(operation, { userId: "not a user id" });
  if (operation.template.includes("{entryId}")) return operation.template.replace("{entryId}", "x".repeat(201));
  return `${operation.template}?limit=0`;
}

/** Requests that reach a documented code on any operation that lists it. */
const generic: Record<string, (operation: Operation) => Call | undefined> = {
  missing_token: (operation) => call(operation, { token: null }),
  invalid_admin_key: (operation) => call(operation, { admin: "not-the-admin-key-0000" }),
  reserved_identity: (operation) => (operation.operationId === "login" ? undefined : async () => call(operation, { token: (await jwtUserNamed("administrator")).token })()),
  invalid_parameter: (operation) => call(operation, { path: paramPath(operation) }),
  room_not_found: (operation) => (operation.template.includes("{roomId}") ? call(operation, { path: pathOf(operation, { roomId: 999_999 }) }) : undefined),
  invalid_request: (operation) => (isCallback(operation) ? undefined : call(operation, { body: {} })),
  invalid_json: (operation) => (isCallback(operation) ? undefined : call(operation, { rawBody: "{", headers: json })),
  payload_too_large: (operation) => call(operation, { rawBody: JSON.stringify({ padding: "x".repeat(maxBodyBytes) }), headers: json }),
  unsupported_media_type: (operation) => call(operation, { rawBody: JSON.stringify(exampleOf(operation)), headers: { "content-type": "text/plain" } }),
  invalid_callback_signature: (operation) => call(operation, { token: null, body: { event_type: 1 } }),
};

/**
 * Calls to an in-process usersig app whose registration limit is 1, until one is refused. The
 * limits are fixed windows: `limit` calls may straddle a window's end, so up to twice as many go.
 */
async function limited(path: string, body: unknown, limit: number): Promise<ApiResponse> {
  const app = createUserSigApp({ db: testDb(), config: { ...getConfig(), registrationsPerIpPerHour: 1 } });
  const clientIp = `10.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}.7`;
  let response: Response | undefined;
  for (let i = 0; i < 2 * (limit + 1) && response?.status !== 429; i++) {
    response = await app.request(path, { method: "POST", headers: json, body: JSON.stringify(typeof body === "function" ? body() : body) }, { requestId: "contract", clientIp });
  }
  return { status: response!.status, headers: response!.headers, body: await response!.json() };
}

const imQuery = () => new URLSearchParams({ SdkAppid: String(getConfig().sdkAppId), CallbackCommand: "Group.CallbackBeforeSendMsg", contenttype: "json", ...signImCallback(getConfig().imCallbackToken, Math.floor(Date.now() / 1000)) });

/** Requests for the rest, by operation and status. */
const specific: Record<string, Record<number, Call>> = {
  register: {
    409: async () => {
      const user = await newUser();
      return api("POST", "/v1/accounts", { body: { userId: user.userId, password: user.password } });
    },
    429: () => limited("/v1/accounts", () => ({ userId: `lim_${randomUUID().slice(0, 8)}`, password: "contract password" }), 1),
  },
  login: {
    401: () => api("POST", "/v1/sessions", { body: { userId: "nobody_contract", password: "wrong password" } }),
    403: () => api("POST", "/v1/sessions", { body: { userId: "administrator", password: "whatever password" } }),
    // 10 failed logins per user and network.
    429: () => limited("/v1/sessions", { userId: "nobody_contract", password: "wrong password" }, 10),
  },
  sendGift: {
    402: async () => api("POST", "/v1/wallet/gifts", { token: (await jwtUser("poor")).token, body: { roomId: live, giftId: "rocket", count: 1 }, headers: { "idempotency-key": randomUUID() } }),
    404: () => api("POST", "/v1/wallet/gifts", { token, body: { roomId: 999_999, giftId: "rose", count: 1 }, headers: { "idempotency-key": randomUUID() } }),
    409: () => api("POST", "/v1/wallet/gifts", { token, body: { roomId: created, giftId: "rose", count: 1 }, headers: { "idempotency-key": randomUUID() } }),
    422: () => api("POST", "/v1/wallet/gifts", { token, body: { roomId: live, giftId: "no_such_gift", count: 1 }, headers: { "idempotency-key": randomUUID() } }),
  },
  creditWallet: {
    422: async () => {
      const key = randomUUID();
      const credit = (amount: number) => api("POST", "/v1/admin/wallets/contract_user/credits", { body: { amount, reason: "contract" }, headers: { "x-admin-key": adminKey(), "idempotency-key": key } });
      await credit(1);
      return credit(2);
    },
  },
  goLive: { 409: () => api("POST", `/v1/rooms/${closed}/live`, { token: hostToken }) },
  joinRoom: { 409: () => api("POST", `/v1/rooms/${live}/members`, { token: hostToken }) },
  addLikes: { 409: () => api("POST", `/v1/rooms/${created}/likes`, { token, body: { count: 1 } }) },
  inviteCohost: { 409: () => api("POST", `/v1/rooms/${created}/cohosts/invitations`, { token: hostToken, body: { userId: "someone" } }) },
  getTicket: { 409: () => api("POST", `/v1/rooms/${closed}/ticket`, { token }) },
  goOnMic: { 409: () => api("POST", `/v1/rooms/${created}/cohosts`, { token }) },
  getRoomSummary: { 409: () => api("GET", `/v1/rooms/${live}/summary`, { token }) },
  retrySideEffect: {
    404: () => api("POST", "/v1/admin/outbox/none/retry", { headers: { "x-admin-key": adminKey() } }),
    // A live room's recording start is done, not dead.
    409: () => api("POST", `/v1/admin/outbox/${live}:startRecording/retry`, { headers: { "x-admin-key": adminKey() } }),
  },
  imCallback: { 400: () => api("POST", `/v1/callbacks/im?${imQuery()}`, { rawBody: "{", headers: json }) },
  cssCallback: { 400: () => api("POST", "/v1/callbacks/live", { rawBody: "{", headers: json }) },
  trtcCallback: { 400: () => api("POST", "/v1/callbacks/trtc", { rawBody: "{", headers: { ...json, sign: signTrtcCallback(getConfig().trtcCallbackKey, "{") } }) },
  vodCallback: { 400: () => api("POST", `/v1/callbacks/vod?token=${encodeURIComponent(getConfig().vodCallbackToken)}`, { rawBody: "{", headers: json }) },
};

const clientErrors = (operation: Operation) =>
  Object.keys(operation.responses)
    .map(Number)
    .filter((status) => status >= 400 && status < 500);

describe("the OpenAPI document against the routes", () => {
  it.each(operations.map((operation) => [operation.operationId, operation] as const))("%s: every documented 4xx is reached", async (_, operation) => {
    for (const status of clientErrors(operation)) {
      const codes = documentedCodes(operation, status);
      const cases = [
        ...codes.flatMap((code) => {
          const make = generic[code]?.(operation);
          return make ? [{ how: code, make }] : [];
        }),
        ...(specific[operation.operationId]?.[status] ? [{ how: "specific", make: specific[operation.operationId]![status]! }] : []),
      ];
      if (codes.every((code) => raceOnly.has(code))) {
        expect(cases, `${operation.operationId} ${status} lists only race codes`).toEqual([]);
        continue;
      }
      expect(cases.length, `${operation.operationId}: no request here reaches its documented ${status} (${codes.join(", ")})`).toBeGreaterThan(0);
      for (const { how, make } of cases) {
        const response = await make();
        expect(response.status, `${operation.operationId} via ${how}: ${JSON.stringify(response.body)}`).toBe(status);
      }
    }
  });

  it("has a request for every operation and status it names, so none goes stale", () => {
    for (const [operationId, statuses] of Object.entries(specific)) {
      const operation = operations.find((candidate) => candidate.operationId === operationId);
      expect(operation, operationId).toBeDefined();
      for (const status of Object.keys(statuses)) expect(clientErrors(operation!), `${operationId} ${status}`).toContain(Number(status));
    }
  });
});
