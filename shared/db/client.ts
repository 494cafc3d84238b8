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
 * the SDK's default chain finds them (environment, shared profile, SSO).
 */
export function createDb(config: Pick<Config, "dynamodb"> & { awsCredentials?: Config["awsCredentials"] }): Db {
  const { endpoint, region, table } = config.dynamodb;
  const raw = new DynamoDBClient({ region, endpoint, credentials: config.awsCredentials, maxAttempts: 3 });
  // Work every request paid for nothing: a user agent built from the runtime and the SDK's
  // feature flags (DynamoDB needs none), Lambda's X-Ray trace header (there is no Lambda here),
  // and logging of each input and output to a logger that drops them.
  for (const middleware of ["getUserAgentMiddleware", "recursionDetectionMiddleware", "loggerMiddleware"]) raw.middlewareStack.remove(middleware);
  const doc = new DocumentClient(raw, { marshallOptions: { removeUndefinedValues: true } });
  return { doc, raw, table };
}
