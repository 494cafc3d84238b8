import { reservedAccounts } from "../../shared/auth/index.js";
import { getConfig } from "../../shared/config/index.js";
import { functionConfigFields } from "../../shared/config/functions.js";
import { createDb } from "../../shared/db/index.js";
import type { ScfContext, ScfTimerEvent } from "../../shared/http/index.js";
import { createLogger } from "../../shared/log/index.js";
import { sweep, type SweepSummary } from "../../shared/sweeper/index.js";
import { createTencentDeps } from "../../shared/tencent/index.js";

// Cold start: config validated and clients built once per container.
const config = getConfig(functionConfigFields.sweeper);
const db = createDb(config);
const tencent = createTencentDeps(config);

// Once per container, off every user's path (usersig's cold start paid a DynamoDB read for it):
// accounts registered under an IM admin id before registration refused them. No token may act
// as them; an operator should delete them.
reservedAccounts(db, config.imAdminUsers).then(
  (userIds) => userIds.length > 0 && createLogger({ service: "sweeper" }).warn("accounts hold reserved IM admin ids; no token may act as them; delete them", { userIds }),
  (error: unknown) => createLogger({ service: "sweeper" }).warn("could not check for accounts under reserved ids", { error }),
);

/**
 * Timer trigger (every minute on SCF, SWEEP_INTERVAL_SECONDS locally): stale and expired rooms,
 * ended streams, orphaned CDN streams, outbox retries. Logs one summary line per run.
 */
export async function main_handler(event: ScfTimerEvent, context?: ScfContext): Promise<SweepSummary> {
  const log = createLogger({ service: "sweeper", requestId: context?.request_id, trigger: event?.TriggerName });
  const started = performance.now();
  // Start nothing in the last part of the function's time limit (10 s of 60), so the run ends
  // and logs its summary; whatever is left is still due for the next run.
  const limitMs = context?.time_limit_in_ms ?? 60_000;
  const stopStartingAt = Date.now() + limitMs - Math.min(10_000, limitMs / 5);
  const summary = await sweep({ db, config, tencent, log }, Date.now(), { stopStartingAt });
  log.info("sweep", { ...summary, durationMs: Math.round(performance.now() - started) });
  return summary;
}
