/**
 * Create onair's table (and its TTL) on the DynamoDB the environment points at. Idempotent.
 *
 *   DYNAMODB_ENDPOINT=http://127.0.0.1:8000 DYNAMODB_TABLE=onair npm run tables
 */
import { createDb, ensureTable } from "../shared/db/index.js";

const table = process.env.DYNAMODB_TABLE || "onair";
const db = createDb({ dynamodb: { endpoint: process.env.DYNAMODB_ENDPOINT || undefined, region: process.env.DYNAMODB_REGION || "ap-guangzhou", table } });
const outcome = await ensureTable(db.raw, table);
console.log(`table ${table}: ${outcome === "created" ? "created" : "already there"} (TTL on "ttl")`);
db.raw.destroy();
