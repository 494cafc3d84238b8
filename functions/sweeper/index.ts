import { reservedAccounts } from "../../shared/auth/index.js";
import { getConfig } from "../../shared/config/index.js";
import { functionConfigFields } from "../../shared/config/functions.js";
import { createDb } from "../../shared/db/index.js";
import type { ScfContext, ScfTimerEvent } from "../../shared/http/index.js";
import { createLogger, type Logger } from "../../shared/log/index.js";
import { sweep, type SweepSummary } from "../../shared/sweeper/index.js";
import { createTencentDeps } from "../../shared/tencent/index.js";

// Cold start: config validated and clients built once per container.
const config = getConfig(functionConfigFields.sweeper);
const db = createDb(config);
const tencent = createTencentDeps(config);

/**
 * Accounts registered under an IM admin id before registration refused them: no token may act as
 * them, an operator should delete them. Checked once per container, on its first timer run (off
 * every user's path, and awaited: SCF freezes a container between runs, so a check started at
 * load could report only a run later, and its request kept a process that only loads the bundle
 * alive for its round trip).
 */
let reservedChecked: Promise<void> | undefined;
const checkReservedAccounts = (log: Logger) =>
  (reservedChecked ??= reservedAccounts(db, config.imAdminUsers).then(
    (userIds) => void (userIds.length > 0 && log.warn("accounts hold reserved IM admin ids; no token may act as them; delete them", { userIds })),
    (error: unknown) => {
      reservedChecked = undefined; // the next run asks again
      log.warn("could not check for accounts under reserved ids", { error });
    },
  ));

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
  const [summary] = await Promise.all([sweep({ db, config, tencent, log }, Date.now(), { stopStartingAt }), checkReservedAccounts(log)]);
  log.info("sweep", { ...summary, durationMs: Math.round(performance.now() - started) });
  return summary;
}
