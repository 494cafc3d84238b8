/**
 * `npm start`: the whole local stack on one port. Ctrl-C stops all of it, DynamoDB Local too.
 *
 *   PORT=3000 EMULATOR_PORT=3001 SWEEP_INTERVAL_SECONDS=5 npm start
 *   DYNAMODB_PERSIST_DIR=.dynamodb npm start   # keep data between runs
 *   DYNAMODB_FAULTS=throttle=0.2,lost=0.12,cut=0.08,conflict=0.1 npm start   # DynamoDB fails as in production
 */
import { mkdirSync } from "node:fs";
import { startStack } from "./stack.js";

// The Tencent SDK would route even loopback calls through an http_proxy (reference §0.4).
delete process.env.http_proxy;
delete process.env.HTTP_PROXY;

const port = Number(process.env.PORT ?? 3000);
const emulatorPort = Number(process.env.EMULATOR_PORT ?? port + 1);
const persistDir = process.env.DYNAMODB_PERSIST_DIR;
if (persistDir) mkdirSync(persistDir, { recursive: true });

const stack = await startStack({ port, emulatorPort, persistDir });

const shown = [
  "TENCENT_SDKAPPID", "TENCENT_SECRET_KEY", "IM_ADMIN_USER", "IM_CALLBACK_TOKEN", "CSS_CALLBACK_KEY", "TRTC_CALLBACK_KEY",
  "CSS_PUSH_KEY", "CSS_PUSH_DOMAIN", "CSS_PLAY_DOMAIN", "ONAIR_ADMIN_KEY", "HEARTBEAT_INTERVAL_SECONDS", "ROOM_STALE_SECONDS",
  "USERSIG_TTL_SECONDS", "SWEEP_INTERVAL_SECONDS", "DYNAMODB_ENDPOINT", "DYNAMODB_FAULTS", "DYNAMODB_TABLE", "TENCENT_API_SECRET_ID",
  "TENCENT_API_SECRET_KEY", "TENCENT_REGION", "TENCENT_API_ENDPOINT", "IM_API_BASE",
];
console.log(`
onair local stack is up
  API        ${stack.url}      (GET /healthz, /openapi.json, /docs)
  emulator   ${stack.emulatorUrl}      (GET /_state)
  DynamoDB   ${stack.dynamodbEndpoint}${persistDir ? ` (data in ${persistDir})` : " (in memory)"}${
  stack.faultProxy ? `\n  faults     ${JSON.stringify(stack.faultProxy.faults())}  (GET/PUT ${stack.emulatorUrl}/_control/dynamodb/faults)` : ""
}

local configuration (local keys only; * = local default):
${shown.map((name) => `  ${stack.defaulted.includes(name) ? "*" : " "} ${name.padEnd(28)} ${process.env[name] ?? ""}`).join("\n")}

Ctrl-C stops everything.
`);

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, async () => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping the local stack`);
    await stack.stop();
    process.exit(0);
  });
}
