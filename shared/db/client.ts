import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { Config } from "../config/index.js";

export interface Db {
  doc: DynamoDBDocumentClient;
  raw: DynamoDBClient;
  table: string;
}

/**
 * One client per cold start, with the configured keys (SCF has no AWS identity of its own; the
 * local stack sets dummy ones DynamoDB Local accepts). Without keys, as for `npm run tables`,
 * the SDK's default chain finds them (environment, shared profile, SSO).
 */
export function createDb(config: Pick<Config, "dynamodb"> & { awsCredentials?: Config["awsCredentials"] }): Db {
  const { endpoint, region, table } = config.dynamodb;
  const raw = new DynamoDBClient({ region, endpoint, credentials: config.awsCredentials, maxAttempts: 3 });
  const doc = DynamoDBDocumentClient.from(raw, {
    marshallOptions: { removeUndefinedValues: true },
  });
  return { doc, raw, table };
}
