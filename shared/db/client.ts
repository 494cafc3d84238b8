import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { Config } from "../config/index.js";
import { DocumentClient } from "./document.js";

export interface Db {
  doc: DocumentClient;
  raw: DynamoDBClient;
  table: string;
}

/**
 * One client per cold start, with the configured keys (SCF has no AWS identity of its own; the
 * local stack sets dummy ones DynamoDB Local accepts). Without keys, as for `npm run tables`,
 * the SDK's default chain finds them (environment, shared profile, SSO). The functions' requests
 * go through `doc`, which skips the SDK's middleware stack; `raw` serves table set-up.
 */
export function createDb(config: Pick<Config, "dynamodb"> & { awsCredentials?: Config["awsCredentials"] }): Db {
  const { endpoint, region, table } = config.dynamodb;
  const raw = new DynamoDBClient({ region, endpoint, credentials: config.awsCredentials, maxAttempts: 3 });
  const doc = new DocumentClient(raw, { marshallOptions: { removeUndefinedValues: true } });
  return { doc, raw, table };
}
