/**
 * `npm run audit`: the whole-table money check, offline, against the DynamoDB the environment
 * points at. It reads every item once with a paginated, rate-limited Scan (the one place onair
 * scans: it is an operator's tool, never a request path), then checks that credited − spent =
 * Σ balances, that gifts received = Σ earnings, that every user's ledger matches their wallet,
 * and that no idempotency record is stuck. Prints one verdict line; exits 1 on any disagreement.
 *
 *   DYNAMODB_ENDPOINT=http://127.0.0.1:8000 DYNAMODB_TABLE=onair npm run audit
 *   AUDIT_PAGES_PER_SECOND=2 AUDIT_PAGE_SIZE=200 npm run audit   # gentler on a busy table
 */
import { ScanCommand } from "../shared/db/commands.js";
import { TableAudit } from "../shared/billing/index.js";
import { createAdminClient, createDb } from "../shared/db/index.js";

const table = process.env.DYNAMODB_TABLE || "onair";
const pagesPerSecond = Number(process.env.AUDIT_PAGES_PER_SECOND || 5);
const pageSize = Number(process.env.AUDIT_PAGE_SIZE || 500);
if (!(pagesPerSecond > 0) || !(pageSize >= 1 && pageSize <= 10_000)) {
  console.error("AUDIT_PAGES_PER_SECOND must be above 0 and AUDIT_PAGE_SIZE 1-10000");
  process.exit(2);
}
const dynamodb = { endpoint: process.env.DYNAMODB_ENDPOINT || undefined, region: process.env.DYNAMODB_REGION || "ap-guangzhou", table };
// Keys from the SDK's default chain (environment, shared profile, SSO), as for `npm run tables`.
const admin = createAdminClient(dynamodb);
const db = createDb({ dynamodb, awsCredentials: () => admin.config.credentials() });
const audit = new TableAudit(Date.now());
let pages = 0;
let start: Record<string, unknown> | undefined;
do {
  const began = Date.now();
  const page = await db.doc.send(new ScanCommand({ TableName: table, Limit: pageSize, ExclusiveStartKey: start, ConsistentRead: true }));
  for (const item of page.Items ?? []) audit.add(item);
  start = page.LastEvaluatedKey;
  pages++;
  const wait = 1000 / pagesPerSecond - (Date.now() - began);
  if (start && wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
} while (start);
db.doc.destroy();
admin.destroy();

for (const notice of audit.notices) console.log(`  note: ${notice}`);
const problems = audit.problems();
for (const problem of problems) console.log(`  ${problem}`);
const figures = `${audit.wallets} wallets, ${audit.ledgerEntries} ledger entries, credited ${audit.credited}, spent ${audit.spent}, balances ${audit.balances}, received ${audit.received}, earnings ${audit.earnings}; ${pages} pages`;
console.log(problems.length === 0 ? `audit: consistent (${figures})` : `audit: INCONSISTENT, ${problems.length} problem(s) (${figures})`);
process.exit(problems.length === 0 ? 0 : 1);
