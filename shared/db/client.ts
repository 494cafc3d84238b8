import type { Config } from "../config/index.js";
import { DocumentClient, type Credentials } from "./document.js";

export interface Db {
  doc: DocumentClient;
  table: string;
}

/**
 * One client per cold start, with the configured keys (SCF has no AWS identity of its own; the
 * local stack sets dummy ones DynamoDB Local accepts). A script without keys passes a provider
 * instead (`npm run tables` and `npm run audit` pass the SDK's default chain: environment,
 * shared profile, SSO), so no function's bundle carries that chain.
 */
export function createDb(config: Pick<Config, "dynamodb"> & { awsCredentials: Credentials | (() => Promise<Credentials>) }): Db {
  const { endpoint, region, table } = config.dynamodb;
  const doc = new DocumentClient({ region, endpoint, credentials: config.awsCredentials, maxAttempts: 3, marshallOptions: { removeUndefinedValues: true } });
  return { doc, table };
}
