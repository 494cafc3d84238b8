import { readFile } from "node:fs/promises";
import type { Server } from "node:http";
import { join } from "node:path";
import { Hono } from "hono";
import { getConfig, resetConfig } from "../../shared/config/index.js";
import { setUpTable } from "../../shared/db/index.js";
import { serveDocs, type DocsDocument } from "../../shared/docs/index.js";
import { responseToResult, type ScfTimerEvent } from "../../shared/http/index.js";
import { startEmulator, type Emulator } from "../emulator/server.js";
import { functionForPath, functionSpecs } from "../functions.js";
import { buildOpenApiDocument, type OpenApiSource } from "./openapi.js";
import { swaggerUiDir } from "../docs-files.js";
import { applyDefaults, localEnvDefaults } from "./env.js";
import { checkFaults, parseFaults, startFaultProxy, type FaultProxy } from "./dynamodb-faults.js";
import { freePort, startDynamoDbLocal, type DynamoDbLocal } from "./dynamodb-local.js";
import { createLocalServer, type HttpHandler } from "./server.js";

/** Function entry points, loaded only after the environment is in place (they read it at load). */
const loaders = {
  usersig: () => import("../../functions/usersig/index.js"),
  rooms: () => import("../../functions/rooms/index.js"),
  wallet: () => import("../../functions/wallet/index.js"),
  "im-callback": () => import("../../functions/im-callback/index.js"),
  "live-callback": () => import("../../functions/live-callback/index.js"),
  sweeper: () => import("../../functions/sweeper/index.js"),
} as const;

export interface StackOptions {
  /** HTTP port for every function. 0 picks a free one. @default 3000 */
  port?: number;
  /** Emulator port. 0 picks a free one. @default port + 1 */
  emulatorPort?: number;
  /** Seconds between sweeper runs; 0 turns the timer off. @default SWEEP_INTERVAL_SECONDS or 5 */
  sweepIntervalSeconds?: number;
  /** Keep DynamoDB Local's data in this folder instead of memory. */
  persistDir?: string;
  /**
   * Put the fault proxy in front of DynamoDB with these faults (`throttle=0.2,lost=0.12,…`; ""
   * for none yet). Without it there is no proxy. @default DYNAMODB_FAULTS
   */
  dynamodbFaults?: string;
  /** Called with each line worth showing an operator (the sweeper's failures). */
  onError?: (message: string, error: unknown) => void;
}

export interface Stack {
  url: string;
  emulatorUrl: string;
  dynamodbEndpoint: string;
  /** The DynamoDB fault proxy, when one runs. */
  faultProxy?: FaultProxy;
  emulator: Emulator;
  /** Names of variables that took their local default. */
  defaulted: string[];
  stop(): Promise<void>;
}

/**
 * The whole local stack: DynamoDB Local (unless DYNAMODB_ENDPOINT is set) with the table,
 * the Tencent Cloud emulator, every HTTP function on one port through the SCF adapter, and the
 * sweeper on its timer. Used by `npm start` and by the integration tests alike.
 */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const port = options.port === 0 ? await freePort() : (options.port ?? 3000);
  const emulatorPort = options.emulatorPort === 0 ? await freePort() : (options.emulatorPort ?? port + 1);
  const defaulted = applyDefaults(process.env, localEnvDefaults({ port, emulatorPort }));
  resetConfig();

  let dynamo: DynamoDbLocal | undefined;
  let faultProxy: FaultProxy | undefined;
  let emulator: Emulator | undefined;
  let server: Server | undefined;
  let sweepTimer: NodeJS.Timeout | undefined;
  let directEndpoint: string | undefined;
  const stop = async () => {
    if (sweepTimer) clearInterval(sweepTimer);
    if (server) {
      server.closeAllConnections();
      await new Promise((resolve) => server!.close(resolve));
    }
    await emulator?.stop();
    await faultProxy?.stop();
    await dynamo?.stop();
    // Leave the environment as it was, so another stack in this process starts clean.
    for (const name of defaulted) delete process.env[name];
    if (dynamo) delete process.env.DYNAMODB_ENDPOINT;
    else if (faultProxy) process.env.DYNAMODB_ENDPOINT = directEndpoint;
    resetConfig();
  };

  try {
    if (!process.env.DYNAMODB_ENDPOINT) {
      dynamo = await startDynamoDbLocal({ persistDir: options.persistDir });
      process.env.DYNAMODB_ENDPOINT = dynamo.endpoint;
    }
    directEndpoint = process.env.DYNAMODB_ENDPOINT;
    const { dynamodb, awsCredentials } = getConfig();
    await setUpTable(dynamodb, awsCredentials);
    const faultSpec = options.dynamodbFaults ?? process.env.DYNAMODB_FAULTS;
    if (faultSpec !== undefined) {
      // Every function (and the sweeper) then reaches DynamoDB through the proxy.
      faultProxy = await startFaultProxy(directEndpoint, parseFaults(faultSpec));
      process.env.DYNAMODB_ENDPOINT = faultProxy.endpoint;
      resetConfig();
    }
    const config = getConfig();

    emulator = await startEmulator({
      port: emulatorPort,
      sdkAppId: config.sdkAppId,
      userSigKey: config.userSigKey,
      imAdminUser: config.imAdminUser,
      apiSecrets: { [config.tencentCloud.secretId ?? ""]: config.tencentCloud.secretKey ?? "" },
      imCallback: { url: `http://127.0.0.1:${port}/v1/callbacks/im`, token: config.imCallbackToken },
      liveCallbacks: { baseUrl: `http://127.0.0.1:${port}`, cssKey: config.cssCallbackKey, trtcKey: config.trtcCallbackKey, vodToken: config.vodCallbackToken },
      dynamodbFaults: faultProxy && {
        get: () => ({ ...faultProxy!.faults(), injected: faultProxy!.injected() }),
        set: (body) => faultProxy!.setFaults(checkFaults(body)),
      },
    });

    const handlers = new Map<string, HttpHandler>();
    const apps: OpenApiSource[] = [];
    for (const spec of functionSpecs.filter((s) => s.kind === "http")) {
      const module = (await loaders[spec.name as keyof typeof loaders]()) as { main_handler: HttpHandler; app: OpenApiSource["app"] };
      handlers.set(spec.name, module.main_handler);
      apps.push({ name: spec.name, app: module.app });
    }
    // The docs page as the usersig function serves it deployed, with Swagger UI's files from node_modules.
    const docsApp = new Hono();
    const openApi = buildOpenApiDocument(apps, `http://127.0.0.1:${port}`);
    serveDocs(docsApp, { asset: (name) => readFile(join(swaggerUiDir, name)), document: async () => openApi as DocsDocument });
    const docs: HttpHandler = async (event) => responseToResult(await docsApp.fetch(new Request(`http://127.0.0.1:${port}${event.path}`)));

    server = createLocalServer(
      (path) => {
        if (path === "/openapi.json" || path === "/docs" || path.startsWith("/docs/")) return docs;
        const spec = functionForPath(path);
        return spec ? handlers.get(spec.name) : undefined;
      },
      (path, method) => {
        if (method !== "GET") return undefined;
        const json = (body: string) => ({ statusCode: 200, headers: { "content-type": "application/json" }, body, isBase64Encoded: false });
        if (path === "/healthz") return json(JSON.stringify({ status: "ok", dynamodb: process.env.DYNAMODB_ENDPOINT, emulator: emulator!.url }));
        return undefined;
      },
    );
    await new Promise<void>((resolve, reject) => {
      server!.once("error", reject);
      server!.listen(port, "127.0.0.1", () => resolve());
    });

    const sweeper = (await loaders.sweeper()).main_handler;
    const sweepSeconds = options.sweepIntervalSeconds ?? Number(process.env.SWEEP_INTERVAL_SECONDS ?? 5);
    if (sweepSeconds > 0) {
      let running = false;
      sweepTimer = setInterval(async () => {
        if (running) return; // a slow run is never overlapped by the next tick
        running = true;
        const event: ScfTimerEvent = { Type: "Timer", TriggerName: "sweep_local", Time: new Date().toISOString(), Message: "" };
        try {
          await sweeper(event, { request_id: `sweep-${Date.now()}` });
        } catch (error) {
          (options.onError ?? console.error)("sweeper run failed", error);
        } finally {
          running = false;
        }
      }, sweepSeconds * 1000);
      sweepTimer.unref();
    }

    return { url: `http://127.0.0.1:${port}`, emulatorUrl: emulator.url, dynamodbEndpoint: process.env.DYNAMODB_ENDPOINT!, faultProxy, emulator, defaulted, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
