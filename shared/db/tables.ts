import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  DescribeTimeToLiveCommand,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
  type CreateTableCommandInput,
} from "@aws-sdk/client-dynamodb";
import type { Config } from "../config/index.js";
import type { Credentials } from "./document.js";

/** Attribute DynamoDB's TTL sweeps (epoch seconds). Reads still check expiry: TTL is lazy. */
export const ttlAttribute = "ttl";

/** The overloaded global indexes; each module documents its keys next to its code. gsi4 sorts by a number. */
export const indexNames = ["gsi1", "gsi2", "gsi3", "gsi4"] as const;
const numericSortKeys = new Set(["gsi4sk"]);

/**
 * onair keeps one table (single-table design): every item has a partition key `pk` and a sort
 * key `sk`; three overloaded global indexes serve the secondary access patterns (README
 * "Data model"). They project keys only: an update that changes no index key (a heartbeat's
 * timestamp on a room already listed) then costs the index nothing, and readers fetch the
 * items they need with one BatchGetItem.
 */
export function tableDefinition(tableName: string): CreateTableCommandInput {
  const index = (name: string) => ({
    IndexName: name,
    KeySchema: [
      { AttributeName: `${name}pk`, KeyType: "HASH" as const },
      { AttributeName: `${name}sk`, KeyType: "RANGE" as const },
    ],
    Projection: { ProjectionType: "KEYS_ONLY" as const },
  });
  return {
    TableName: tableName,
    BillingMode: "PAY_PER_REQUEST",
    AttributeDefinitions: ["pk", "sk", ...indexNames.flatMap((name) => [`${name}pk`, `${name}sk`])].map((name) => ({
      AttributeName: name,
      AttributeType: numericSortKeys.has(name) ? ("N" as const) : ("S" as const),
    })),
    KeySchema: [
      { AttributeName: "pk", KeyType: "HASH" },
      { AttributeName: "sk", KeyType: "RANGE" },
    ],
    GlobalSecondaryIndexes: indexNames.map(index),
  };
}

/**
 * The SDK's own client, for setting the table up and for scripts: without keys it finds them
 * through the SDK's default chain (environment, shared profile, SSO). Functions never import it,
 * so no bundle carries it.
 */
export function createAdminClient(dynamodb: Config["dynamodb"], credentials?: Credentials): DynamoDBClient {
  return new DynamoDBClient({ region: dynamodb.region, endpoint: dynamodb.endpoint, credentials, maxAttempts: 3 });
}

/** `ensureTable` through a client of its own, closed after. */
export async function setUpTable(dynamodb: Config["dynamodb"], credentials?: Credentials): Promise<"created" | "exists"> {
  const client = createAdminClient(dynamodb, credentials);
  try {
    return await ensureTable(client, dynamodb.table);
  } finally {
    client.destroy();
  }
}

/** Create the table and turn on TTL; safe to run again (it only adds what is missing). */
export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<"created" | "exists"> {
  let outcome: "created" | "exists" = "exists";
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException) && (error as Error).name !== "ResourceNotFoundException") throw error;
    try {
      await client.send(new CreateTableCommand(tableDefinition(tableName)));
      outcome = "created";
    } catch (createError) {
      // Another process created it between our describe and create.
      if ((createError as Error).name !== "ResourceInUseException") throw createError;
    }
  }
  // AWS creates a table (and its indexes) in the background; TTL can be set only once it is ACTIVE.
  await waitUntilTableExists({ client, maxWaitTime: 600 }, { TableName: tableName });
  const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
  const status = ttl.TimeToLiveDescription?.TimeToLiveStatus;
  if (status !== "ENABLED" && status !== "ENABLING") {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: ttlAttribute, Enabled: true },
      }),
    );
  }
  return outcome;
}
