/**
 * UserSig issuance through the full usersig handler (SCF event in, session GetItem, signing,
 * response out) against its two parts alone: the bare genUserSig call and a bare DynamoDB
 * GetItem on the same DynamoDB Local. Prints ops/s (median of rounds) and the ratios.
 *
 *   npm run bench -- usersig
 */
import { GetCommand } from "../../shared/db/commands.js";
import TLSSigAPIv2 from "tls-sig-api-v2/TLSSigAPIv2.js";
import { startStack } from "../local/stack.js";
import { getConfig } from "../../shared/config/index.js";
import { createDb } from "../../shared/db/index.js";
import type { ScfHttpEvent, ScfHttpResult } from "../../shared/http/index.js";

const roundMs = 1500;
const rounds = 5;

async function opsPerSecond(op: () => Promise<unknown> | unknown, concurrency: number): Promise<number> {
  const results: number[] = [];
  for (let round = 0; round < rounds; round++) {
    let done = 0;
    const deadline = performance.now() + roundMs;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < deadline) {
          await op();
          done++;
        }
      }),
    );
    results.push(done / ((performance.now() - started) / 1000));
  }
  results.sort((a, b) => a - b);
  return results[Math.floor(results.length / 2)]!;
}

export async function benchUserSig(): Promise<void> {
  process.env.LOG_LEVEL = "warn";
  const stack = await startStack({ port: 0, emulatorPort: 0, sweepIntervalSeconds: 0 });
  try {
    const config = getConfig();
    const db = createDb(config);
    const { main_handler } = (await import("../../functions/usersig/index.js")) as { main_handler: (e: ScfHttpEvent) => Promise<ScfHttpResult> };
    const json = { "content-type": "application/json" };
    const credentials = JSON.stringify({ userId: "bench_user", password: "bench password" });
    await main_handler({ httpMethod: "POST", path: "/v1/accounts", headers: json, body: credentials });
    const login = await main_handler({ httpMethod: "POST", path: "/v1/sessions", headers: json, body: credentials });
    const { token } = JSON.parse(login.body) as { token: string };
    const event: ScfHttpEvent = { httpMethod: "POST", path: "/v1/usersig", headers: { authorization: `Bearer ${token}` } };
    const check = await main_handler(event);
    if (check.statusCode !== 200) throw new Error(`usersig answered ${check.statusCode}: ${check.body}`);

    const api = new TLSSigAPIv2.Api(config.sdkAppId, config.userSigKey);
    const key = { pk: "SESSION#bench-missing", sk: "SESSION" };
    console.log(`usersig issuance (median of ${rounds} rounds of ${roundMs} ms, DynamoDB Local on loopback)`);
    console.log("operation                            concurrency      ops/s");
    for (const concurrency of [1, 8]) {
      const handler = await opsPerSecond(() => main_handler(event), concurrency);
      const sign = await opsPerSecond(() => api.genUserSig("bench_user", 86400), concurrency);
      const getItem = await opsPerSecond(() => db.doc.send(new GetCommand({ TableName: db.table, Key: key })), concurrency);
      const row = (name: string, value: number) => console.log(`${name.padEnd(36)} ${String(concurrency).padStart(11)} ${value.toFixed(0).padStart(10)}`);
      row("full handler POST /v1/usersig", handler);
      row("bare genUserSig", sign);
      row("bare GetItem", getItem);
      console.log(`  ratio handler/GetItem ${(handler / getItem).toFixed(2)}, handler/genUserSig ${(handler / sign).toFixed(3)}`);
    }
    db.doc.destroy();
  } finally {
    await stack.stop();
  }
}
