import { getConfig } from "../../shared/config/index.js";
import { createDb } from "../../shared/db/index.js";
import type { ScfContext, ScfTimerEvent } from "../../shared/http/index.js";
import { createLogger } from "../../shared/log/index.js";
import { retryDueEntries } from "../../shared/outbox/index.js";
import { createTencentDeps } from "../../shared/tencent/index.js";

// Cold start: config validated and clients built once per container.
const config = getConfig();
const db = createDb(config);
const tencent = createTencentDeps(config);

export interface SweepSummary {
  outbox: Awaited<ReturnType<typeof retryDueEntries>>;
}

/**
 * Timer trigger: retries the outbox's due side effects. Stale rooms and orphaned CDN streams
 * arrive with the recording issue. Logs one summary line per run.
 */
export async function main_handler(event: ScfTimerEvent, context?: ScfContext): Promise<SweepSummary> {
  const log = createLogger({ service: "sweeper", requestId: context?.request_id, trigger: event?.TriggerName });
  const summary: SweepSummary = { outbox: await retryDueEntries(db, tencent, log) };
  log.info("sweep", { ...summary });
  return summary;
}
