import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { randomUUID } from "node:crypto";
import { UserSigSigner } from "../../shared/tencent/index.js";
import { verifyTc3 } from "./tc3.js";

/**
 * The local Tencent Cloud: cloud APIs (TC3-signed, as tencentcloud-sdk-nodejs sends them to
 * `POST /`), the IM REST API (`POST /v4/<service>/<command>` with the admin UserSig), and
 * `GET /_state` for inspection. It checks credentials exactly as the real services do, so a
 * bug in onair's signing fails here first.
 */
export interface EmulatorOptions {
  port?: number;
  sdkAppId: number;
  /** Key UserSigs are signed with; the IM REST API checks the admin's UserSig with it. */
  userSigKey: string;
  imAdminUser: string;
  /** Cloud API credentials accepted for TC3 (secretId → secretKey). */
  apiSecrets: Record<string, string>;
}

export interface EmulatorState {
  accounts: string[];
}

export interface Emulator {
  url: string;
  port: number;
  state: EmulatorState;
  stop(): Promise<void>;
}

type ImReply = Record<string, unknown> & { ActionStatus: "OK" | "FAIL"; ErrorCode: number; ErrorInfo: string };

const imOk = (fields: Record<string, unknown> = {}): ImReply => ({ ActionStatus: "OK", ErrorInfo: "", ErrorCode: 0, ...fields });
const imFail = (code: number, info: string): ImReply => ({ ActionStatus: "FAIL", ErrorInfo: info, ErrorCode: code });

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks)));
    request.on("error", reject);
  });
}

function send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  response.writeHead(status, { "content-type": "application/json", ...headers });
  response.end(JSON.stringify(body));
}

export async function startEmulator(options: EmulatorOptions): Promise<Emulator> {
  const signer = new UserSigSigner(options.sdkAppId, options.userSigKey);
  const state: EmulatorState = { accounts: [] };

  const imCommands: Record<string, (body: Record<string, unknown>) => ImReply> = {
    "im_open_login_svc/account_import": (body) => {
      const userId = body.UserID;
      if (typeof userId !== "string" || userId.length === 0 || Buffer.byteLength(userId) > 32) return imFail(70402, "UserID is invalid");
      if (!state.accounts.includes(userId)) state.accounts.push(userId);
      return imOk();
    },
  };

  function handleIm(url: URL, raw: Buffer): ImReply {
    const params = url.searchParams;
    if (params.get("sdkappid") !== String(options.sdkAppId)) return imFail(60006, "SDKAppID is invalid");
    const identifier = params.get("identifier") ?? "";
    const verdict = signer.verify(params.get("usersig") ?? "", identifier);
    if (verdict === "expired") return imFail(70001, "UserSig has expired");
    if (verdict !== "ok") return imFail(70003, "UserSig is invalid");
    if (identifier !== options.imAdminUser) return imFail(60010, "the request requires app admin permission");
    const random = Number(params.get("random"));
    if (!Number.isInteger(random) || random < 0 || random > 0xffffffff) return imFail(60002, "random is invalid");
    const command = url.pathname.replace(/^\/v4\//, "");
    const handler = imCommands[command];
    if (!handler) return imFail(60020, `command ${command} is not supported by the emulator`);
    let body: unknown;
    try {
      body = JSON.parse(raw.toString("utf8"));
    } catch {
      return imFail(60003, "request body is not valid JSON");
    }
    if (typeof body !== "object" || body === null || Array.isArray(body)) return imFail(60003, "request body must be a JSON object");
    return handler(body as Record<string, unknown>);
  }

  function handleCloudApi(request: IncomingMessage, raw: Buffer) {
    const headers = Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, Array.isArray(value) ? value[0] : value]));
    const requestId = randomUUID();
    const verdict = verifyTc3(headers, raw, options.apiSecrets);
    if (!verdict.ok) return { Response: { Error: { Code: verdict.code, Message: verdict.message }, RequestId: requestId } };
    return { Response: { Error: { Code: "InvalidAction", Message: `action ${verdict.action} is not emulated` }, RequestId: requestId } };
  }

  const server: Server = createServer(async (request, response) => {
    try {
      const url = new URL(request.url ?? "/", "http://emulator");
      const raw = await readBody(request);
      if (request.method === "GET" && url.pathname === "/_state") return send(response, 200, state);
      if (request.method === "POST" && url.pathname.startsWith("/v4/")) return send(response, 200, handleIm(url, raw));
      if (request.method === "POST" && url.pathname === "/") return send(response, 200, handleCloudApi(request, raw));
      send(response, 404, { error: `no emulated endpoint ${request.method} ${url.pathname}` });
    } catch (error) {
      send(response, 500, { error: (error as Error).message });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    state,
    stop: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
