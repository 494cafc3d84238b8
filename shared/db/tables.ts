import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
  type CreateTableCommandInput,
  type DynamoDBClient,
} from "@aws-sdk/client-dynamodb";

/** Attribute DynamoDB's TTL sweeps (epoch seconds). Reads still check expiry: TTL is lazy. */
export const ttlAttribute = "ttl";

/**
 * onair keeps one table (single-table design): every item has a partition key `pk` and a sort
 * key `sk`; two overloaded global indexes (`gsi1`, `gsi2`) serve the secondary access patterns
 * that later modules document next to their keys (see README "Data model").
 */
export function tableDefinition(tableName: string): CreateTableCommandInput {
  const index = (name: string) => ({
    IndexName: name,
    KeySchema: [
      { AttributeName: `${name}pk`, KeyType: "HASH" as const },
      { AttributeName: `${name}sk`, KeyType: "RANGE" as const },
    ],
    Projection: { ProjectionType: "ALL" as const },
  });
  return {
    TableName: tableName,
    BillingMode: "PAY_PER_REQUEST",
    AttributeDefinitions: ["pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk"].map((name) => ({
      AttributeName: name,
      AttributeType: "S" as const,
    })),
    KeySchema: [
      { AttributeName: "pk", KeyType: "HASH" },
      { AttributeName: "sk", KeyType: "RANGE" },
    ],
    GlobalSecondaryIndexes: [index("gsi1"), index("gsi2")],
  };
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
