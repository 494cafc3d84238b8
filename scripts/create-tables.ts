/**
 * Create onair's table (and its TTL) on the DynamoDB the environment points at. Idempotent.
 * Credentials come from the AWS SDK's default chain (AWS_ACCESS_KEY_ID…, AWS_PROFILE, SSO): use
 * an identity allowed to create tables, not the functions' item-only keys.
 *
 *   DYNAMODB_REGION=ap-southeast-1 DYNAMODB_TABLE=onair npm run tables
 *   DYNAMODB_ENDPOINT=http://127.0.0.1:8000 npm run tables
 */
import { ConfigError, parseConfig } from "../shared/config/index.js";
import { setUpTable } from "../shared/db/index.js";

let dynamodb;
try {
  ({ dynamodb } = parseConfig(process.env, ["dynamodb"]));
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.problems.join("\n"));
  process.exit(1);
}
const outcome = await setUpTable(dynamodb);
console.log(`table ${dynamodb.table} in ${dynamodb.endpoint ?? dynamodb.region}: ${outcome === "created" ? "created" : "already there"} (TTL on "ttl")`);
