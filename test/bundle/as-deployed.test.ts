import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parseEnv } from "node:util";
import { unzipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setUpTable } from "../../shared/db/index.js";
import { signCssCallback, signImCallback, signTrtcCallback } from "../../shared/signatures/index.js";
import { startEmulator, type Emulator } from "../../scripts/emulator/server.js";
import { resolveDeployment, type ResolvedFunction } from "../../scripts/deployment.js";
import { functionSpecs } from "../../scripts/functions.js";

/*
 * Each dist/<name>.zip as SCF runs it: unpacked into a fresh directory outside the repo, loaded
 * by a fresh Node process whose working directory is that directory, with exactly the environment
 * serverless.yml declares for the function (resolved from .env.example plus this test's
 * endpoints) and what SCF itself injects (the execution role's temporary credentials). It is
 * driven by recorded SCF event shapes: a Function URL request for every route, a timer event.
 *
 * Cloud API and IM calls go to an emulator of their own that knows only .env.example's app key
 * and the role's credentials (session token required), so a call signed with anything else fails.
 */

const root = join(import.meta.dirname, "../..");
// The functions refuse the example's placeholders, so each becomes a random value, as an operator's would.
const example = Object.fromEntries(
  Object.entries(parseEnv(readFileSync(join(root, ".env.example"), "utf8"))).map(([name, value]) => [name, value?.startsWith("replace-with-") ? `${name.toLowerCase()}-${randomBytes(16).toString("hex")}` : value]),
) as Record<string, string | undefined>;
const role = { TENCENTCLOUD_SECRETID: `AKIDrole${randomBytes(4).toString("hex")}`, TENCENTCLOUD_SECRETKEY: randomBytes(16).toString("hex"), TENCENTCLOUD_SESSIONTOKEN: randomBytes(24).toString("hex") };
const table = `onair_deployed_${randomBytes(4).toString("hex")}`;

/** The SCF Node.js runtime in miniature: require `file` from the code root, call `function`, answer on fd 3. */
const runtimeSource = `
const { join } = require("node:path");
const { writeSync } = require("node:fs");
const [file, exported] = process.argv[2].split(".");
const handler = require(join(process.cwd(), file))[exported];
let buffered = "";
process.stdin.on("data", (chunk) => {
  buffered += chunk;
  let newline;
  while ((newline = buffered.indexOf("\\n")) >= 0) {
    const { id, event, context } = JSON.parse(buffered.slice(0, newline));
    buffered = buffered.slice(newline + 1);
    Promise.resolve()
      .then(() => handler(event, context))
      .then((result) => writeSync(3, JSON.stringify({ id, result }) + "\\n"), (error) => writeSync(3, JSON.stringify({ id, error: String(error && error.stack || error) }) + "\\n"));
  }
});
`;

interface Instance {
  fn: ResolvedFunction;
  dir: string;
  env: Record<string, string>;
  child: ChildProcess;
  logs: string[];
  invoke(event: unknown): Promise<any>;
}

let emulator: Emulator;
const instances = new Map<string, Instance>();

function startInstance(fn: ResolvedFunction, timeoutSeconds: number): Instance {
  const dir = mkdtempSync(join(tmpdir(), `scf-${fn.key}-`));
  for (const [path, bytes] of Object.entries(unzipSync(readFileSync(join(root, "dist", `${fn.key}.zip`))))) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), bytes);
  }
  const runtimeDir = mkdtempSync(join(tmpdir(), "scf-runtime-"));
  writeFileSync(join(runtimeDir, "runtime.cjs"), runtimeSource);
  // What SCF documents for Nodejs20.19 (NODE_PATH, TENCENTCLOUD_RUNENV, USER_CODE_ROOT), with /var/user here.
  const env = { ...fn.environment, ...role, TENCENTCLOUD_RUNENV: "SCF", USER_CODE_ROOT: dir, NODE_PATH: `${dir}:${dir}/node_modules`, PATH: process.env.PATH ?? "" };
  const child = spawn(process.execPath, [join(runtimeDir, "runtime.cjs"), fn.handler], { cwd: dir, env, stdio: ["pipe", "pipe", "pipe", "pipe"] });
  const logs: string[] = [];
  child.stdout!.on("data", (chunk) => logs.push(String(chunk)));
  child.stderr!.on("data", (chunk) => logs.push(String(chunk)));
  const pending = new Map<number, { resolve: (value: any) => void; reject: (error: Error) => void }>();
  let buffered = "";
  (child.stdio[3] as NodeJS.ReadableStream).on("data", (chunk) => {
    buffered += String(chunk);
    let newline;
    while ((newline = buffered.indexOf("\n")) >= 0) {
      const answer = JSON.parse(buffered.slice(0, newline));
      buffered = buffered.slice(newline + 1);
      const waiter = pending.get(answer.id)!;
      pending.delete(answer.id);
      if (answer.error) waiter.reject(new Error(`${fn.key}: ${answer.error}\n${logs.join("")}`));
      else waiter.resolve(answer.result);
    }
  });
  child.on("exit", (code) => {
    for (const waiter of pending.values()) waiter.reject(new Error(`${fn.key} exited with ${code}:\n${logs.join("")}`));
  });
  let nextId = 0;
  const invoke = (event: unknown) =>
    new Promise<any>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      const context = { request_id: `req-${fn.key}-${id}`, function_name: fn.name, function_version: "$LATEST", namespace: "default", memory_limit_in_mb: 256, time_limit_in_ms: timeoutSeconds * 1000, tencentcloud_region: example.TENCENT_REGION };
      child.stdin!.write(JSON.stringify({ id, event, context }) + "\n");
    });
  return { fn, dir, env, child, logs, invoke };
}

/** A Function URL event as SCF delivers it: lower-case headers with the caller's address, the path, a query object, the body as text. */
function functionUrlEvent(method: string, path: string, options: { headers?: Record<string, string>; query?: Record<string, string>; body?: unknown } = {}) {
  const body = options.body === undefined ? undefined : typeof options.body === "string" ? options.body : JSON.stringify(options.body);
  return {
    httpMethod: method,
    path,
    queryString: options.query ?? {},
    headers: { accept: "*/*", "x-scf-remote-addr": "203.0.113.7", ...(body !== undefined ? { "content-type": "application/json" } : {}), ...options.headers },
    ...(body !== undefined ? { body } : {}),
  };
}

async function call(name: string, method: string, path: string, options: Parameters<typeof functionUrlEvent>[2] = {}) {
  const result = await instances.get(name)!.invoke(functionUrlEvent(method, path, options));
  return { status: result.statusCode as number, body: result.body ? JSON.parse(result.body) : undefined, headers: result.headers as Record<string, string> };
}

beforeAll(async () => {
  emulator = await startEmulator({
    sdkAppId: Number(example.TENCENT_SDKAPPID),
    userSigKey: example.IM_SDK_SECRET_KEY!,
    imAdminUser: example.IM_ADMIN_USER ?? "administrator",
    apiSecrets: { [role.TENCENTCLOUD_SECRETID]: role.TENCENTCLOUD_SECRETKEY },
    apiSessionTokens: { [role.TENCENTCLOUD_SECRETID]: role.TENCENTCLOUD_SESSIONTOKEN },
  });
  // The local stack's DynamoDB (the workers inherit its endpoint), this file's own table.
  const endpoints = { DYNAMODB_ENDPOINT: process.env.DYNAMODB_ENDPOINT!, DYNAMODB_TABLE: table, TENCENT_API_ENDPOINT: `127.0.0.1:${emulator.port}`, IM_API_BASE: emulator.url };
  // DynamoDB Local keeps one database per access key and region: create the table as the functions will see it.
  const awsCredentials = { accessKeyId: example.AWS_ACCESS_KEY_ID!, secretAccessKey: example.AWS_SECRET_ACCESS_KEY! };
  await setUpTable({ endpoint: endpoints.DYNAMODB_ENDPOINT, region: example.DYNAMODB_REGION!, table }, awsCredentials);
  const deployment = resolveDeployment(readFileSync(join(root, "serverless.yml"), "utf8"), { ...example, ...endpoints });
  for (const fn of deployment.functions) instances.set(fn.key, startInstance(fn, fn.timeout ?? 10));
});

afterAll(async () => {
  for (const instance of instances.values()) instance.child.kill();
  await emulator?.stop();
});

describe("the zips as deployed", () => {
  it("are loaded from a directory outside the repo, with only the declared environment and what SCF injects", () => {
    expect(instances.size).toBe(functionSpecs.length);
    for (const { fn, dir, env } of instances.values()) {
      expect(dir.startsWith(root)).toBe(false);
      expect(readdirSync(dir).sort()).toEqual(readdirSync(join(root, "dist", fn.src)).sort());
      expect(Object.keys(env).sort()).toEqual([...Object.keys(fn.environment), ...Object.keys(role), "TENCENTCLOUD_RUNENV", "USER_CODE_ROOT", "NODE_PATH", "PATH"].sort());
      expect(env.TENCENT_SECRET_KEY).toBe(example.IM_SDK_SECRET_KEY);
    }
  });

  const host = { userId: `dep_${randomBytes(4).toString("hex")}`, password: "correct horse battery", token: "" };
  let roomId = 0;
  let groupId = "";
  const auth = () => ({ authorization: `Bearer ${host.token}` });

  it("usersig: registers, logs in and signs a UserSig for .env.example's app", async () => {
    expect((await call("usersig", "POST", "/v1/accounts", { body: { userId: host.userId, password: host.password } })).status).toBe(201);
    const session = await call("usersig", "POST", "/v1/sessions", { body: { userId: host.userId, password: host.password } });
    expect(session.status).toBe(201);
    host.token = session.body.token;
    const sig = await call("usersig", "POST", "/v1/usersig", { headers: auth() });
    expect([sig.status, sig.body.sdkAppId, sig.body.userId]).toEqual([200, Number(example.TENCENT_SDKAPPID), host.userId]);
  });

  it("rooms: creates the IM group as the app admin, goes live, and closes with every cloud call signed by the role", async () => {
    const created = await call("rooms", "POST", "/v1/rooms", { headers: auth(), body: { title: "as deployed" } });
    expect(created.status).toBe(201);
    ({ roomId, groupId } = created.body);
    expect(emulator.state.groups.some((group) => group.groupId === groupId)).toBe(true);
    expect((await call("rooms", "POST", `/v1/rooms/${roomId}/live`, { headers: auth() })).body.status).toBe("live");
    const closed = await call("rooms", "POST", `/v1/rooms/${roomId}/close`, { headers: auth() });
    expect([closed.status, closed.body.status, closed.body.pendingEffects]).toEqual([200, "closed", 0]);
    // TC3-signed with the role's key and session token (the emulator accepts nothing else); the
    // stream was never pushed, so DropLiveStream's "not online" answer counts as done.
    // The group hears room_closed, then is destroyed; the TRTC room and the stream go alongside.
    const actions = emulator.state.calls.map((c) => c.action);
    expect([...actions].sort()).toEqual(["DismissRoom", "DropLiveStream", "account_import", "create_group", "destroy_group", "send_group_msg"]);
    expect(actions.indexOf("send_group_msg")).toBeLessThan(actions.indexOf("destroy_group"));
    expect(emulator.state.calls.find((c) => c.action === "DismissRoom")).toEqual({ action: "DismissRoom", ok: true });
  });

  it("wallet: credits with .env.example's admin key and shows the balance", async () => {
    const credited = await call("wallet", "POST", `/v1/admin/wallets/${host.userId}/credits`, {
      headers: { "x-admin-key": example.ONAIR_ADMIN_KEY!, "idempotency-key": randomBytes(8).toString("hex") },
      body: { amount: 50, reason: "as deployed" },
    });
    expect(credited.status).toBe(201);
    expect((await call("wallet", "GET", "/v1/wallet", { headers: auth() })).body).toMatchObject({ userId: host.userId, balance: 50 });
  });

  it("im-callback: accepts a callback signed with .env.example's token and app id, refuses a forged one", async () => {
    const body = { CallbackCommand: "C2C.CallbackAfterSendMsg", From_Account: "a", To_Account: "b" };
    const query = (token: string) => ({ SdkAppid: example.TENCENT_SDKAPPID!, CallbackCommand: body.CallbackCommand, contenttype: "json", ...signImCallback(token, Math.floor(Date.now() / 1000)) });
    expect((await call("im-callback", "POST", "/v1/callbacks/im", { query: query(example.IM_CALLBACK_TOKEN!), body })).body).toEqual({ ActionStatus: "OK", ErrorInfo: "", ErrorCode: 0 });
    expect((await call("im-callback", "POST", "/v1/callbacks/im", { query: query("forged-token"), body })).status).toBe(401);
  });

  it("live-callback: accepts CSS, TRTC and VOD events authenticated with .env.example's keys", async () => {
    const t = Math.floor(Date.now() / 1000) + 60;
    const css = await call("live-callback", "POST", "/v1/callbacks/live", { body: { event_type: 0, stream_id: "not_a_room_stream", t, sign: signCssCallback(example.CSS_CALLBACK_KEY!, t) } });
    expect(css.status).toBe(200);
    const trtcBody = JSON.stringify({ EventGroupId: 1, EventType: 103, CallbackTs: Date.now(), EventInfo: { RoomId: roomId, EventTs: t, UserId: host.userId } });
    const trtc = await call("live-callback", "POST", "/v1/callbacks/trtc", { headers: { sign: signTrtcCallback(example.TRTC_CALLBACK_KEY!, trtcBody) }, body: trtcBody });
    expect(trtc.status).toBe(200);
    const vod = await call("live-callback", "POST", "/v1/callbacks/vod", { query: { token: example.VOD_CALLBACK_TOKEN! }, body: { EventType: "ProcedureStateChanged" } });
    expect(vod.status).toBe(200);
    expect((await call("live-callback", "POST", "/v1/callbacks/vod", { query: { token: "forged-token" }, body: {} })).status).toBe(401);
  });

  it("sweeper: runs a sweep from a timer event, the orphan scan listing the CDN with the role's credentials", async () => {
    const summary = await instances.get("sweeper")!.invoke({ Type: "Timer", TriggerName: "sweep_every_minute", Time: new Date().toISOString().replace(/\.\d+Z$/, "Z"), Message: '{"job":"sweep"}' });
    expect(summary).toMatchObject({ orphanScan: "ran", outbox: { failed: 0 } });
    expect(emulator.state.calls).toContainEqual({ action: "DescribeLiveStreamOnlineList", ok: true });
  });

  it("answers a Function URL request on every route of every HTTP function without a server error", async () => {
    const require = createRequire(import.meta.url);
    let routes = 0;
    for (const spec of functionSpecs.filter((candidate) => candidate.kind === "http")) {
      // The route list from the bundle's own route definitions (loaded here, in the test process).
      const { app } = require(join(root, "dist", spec.name, "index.js")) as { app: { routeDefinitions: { method: string; path: string }[] } };
      for (const { method, path: template } of app.routeDefinitions) {
        const path = template.replace("{roomId}", String(roomId)).replace("{userId}", host.userId).replace("{entryId}", "none");
        const answer = await call(spec.name, method.toUpperCase(), path, { headers: { ...auth(), "x-admin-key": example.ONAIR_ADMIN_KEY!, "idempotency-key": randomBytes(8).toString("hex") }, body: method === "get" ? undefined : {} });
        expect(answer.status, `${spec.name} ${method.toUpperCase()} ${path}: ${JSON.stringify(answer.body)}`).toBeLessThan(500);
        expect(answer.body?.error?.code, `${spec.name} ${method.toUpperCase()} ${path}`).not.toBe("route_not_found");
        routes++;
      }
    }
    expect(routes).toBeGreaterThan(30);
  });

  it("write no AWS SDK Node-version warning in any cold start's logs (SCF runs Node 20: docs/deploy.md)", () => {
    // Last: by now every function has served requests, so its DynamoDB client exists.
    expect(instances.size).toBe(functionSpecs.length);
    for (const instance of instances.values()) expect(instance.logs.join("")).not.toContain("NodeVersionSupportWarning");
  });
});
