import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { Config } from "../config/index.js";

export interface Db {
  doc: DynamoDBDocumentClient;
  raw: DynamoDBClient;
  table: string;
}

/**
 * One client per cold start. Locally (DYNAMODB_ENDPOINT set) the credentials are dummies that
 * DynamoDB Local accepts; on SCF the default AWS credential chain supplies real ones.
 */
export function createDb(config: Pick<Config, "dynamodb">): Db {
  const { endpoint, region, table } = config.dynamodb;
  const raw = new DynamoDBClient({
    region,
    endpoint,
    ...(endpoint ? { credentials: { accessKeyId: "local", secretAccessKey: "local" } } : {}),
    maxAttempts: 3,
  });
  const doc = DynamoDBDocumentClient.from(raw, {
    marshallOptions: { removeUndefinedValues: true },
  });
  return { doc, raw, table };
}
