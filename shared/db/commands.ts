import type {
  BatchGetCommandInput,
  BatchGetCommandOutput,
  BatchWriteCommandInput,
  BatchWriteCommandOutput,
  DeleteCommandInput,
  DeleteCommandOutput,
  GetCommandInput,
  GetCommandOutput,
  PutCommandInput,
  PutCommandOutput,
  QueryCommandInput,
  QueryCommandOutput,
  ScanCommandInput,
  ScanCommandOutput,
  TransactWriteCommandInput,
  TransactWriteCommandOutput,
  UpdateCommandInput,
  UpdateCommandOutput,
} from "@aws-sdk/lib-dynamodb";

export type {
  BatchGetCommandInput,
  BatchGetCommandOutput,
  BatchWriteCommandInput,
  BatchWriteCommandOutput,
  QueryCommandInput,
  QueryCommandOutput,
  TransactWriteCommandInput,
  TransactWriteCommandOutput,
} from "@aws-sdk/lib-dynamodb";

/**
 * Which parts of a command's input or output are attribute values, as lib-dynamodb's commands
 * mark them: `null` one value, `{}` each value of a map or list, `*` each member with the nodes
 * below it, and named keys those members.
 */
export type KeyNodes = { readonly [key: string]: KeyNodes } | null;

const value = null;
const allValues = {};
const each = (nodes: KeyNodes) => ({ "*": nodes });
const legacyConditions = each({ Value: value, AttributeValueList: allValues });
const writeOutput = { Attributes: allValues, ItemCollectionMetrics: { ItemCollectionKey: allValues } };
const pageOutput = { Items: each(allValues), LastEvaluatedKey: allValues };
const writeRequests = each(each({ PutRequest: { Item: allValues }, DeleteRequest: { Key: allValues } }));
const perTableMetrics = each(each({ ItemCollectionKey: allValues }));

// lib-dynamodb's key nodes, built once (commands are made per request).
const nodes = {
  get: { Key: allValues },
  getOutput: { Item: allValues },
  put: { Item: allValues, Expected: legacyConditions, ExpressionAttributeValues: allValues },
  update: { Key: allValues, AttributeUpdates: each({ Value: value }), Expected: legacyConditions, ExpressionAttributeValues: allValues },
  delete: { Key: allValues, Expected: legacyConditions, ExpressionAttributeValues: allValues },
  query: { KeyConditions: each({ AttributeValueList: allValues }), QueryFilter: each({ AttributeValueList: allValues }), ExclusiveStartKey: allValues, ExpressionAttributeValues: allValues },
  scan: { ScanFilter: each({ AttributeValueList: allValues }), ExclusiveStartKey: allValues, ExpressionAttributeValues: allValues },
  batchGet: { RequestItems: each({ Keys: each(allValues) }) },
  batchGetOutput: { Responses: each(each(allValues)), UnprocessedKeys: each({ Keys: each(allValues) }) },
  batchWrite: { RequestItems: writeRequests },
  batchWriteOutput: { UnprocessedItems: writeRequests, ItemCollectionMetrics: perTableMetrics },
  transactWrite: {
    TransactItems: each({
      ConditionCheck: { Key: allValues, ExpressionAttributeValues: allValues },
      Put: { Item: allValues, ExpressionAttributeValues: allValues },
      Delete: { Key: allValues, ExpressionAttributeValues: allValues },
      Update: { Key: allValues, ExpressionAttributeValues: allValues },
    }),
  },
  transactWriteOutput: { ItemCollectionMetrics: perTableMetrics },
};

/**
 * A DynamoDB request in plain JavaScript values, for `db.doc.send`: the input lib-dynamodb's
 * command of the same name takes, the same key nodes (copied from lib-dynamodb, which keeps
 * them protected), and the output it gives. These carry no SDK client code, so a function's
 * bundle holds none: `Output` types the answer only.
 */
export abstract class DocumentCommand<Input extends object, Output extends object> {
  /** The DynamoDB operation (`X-Amz-Target: DynamoDB_20120810.<operation>`). */
  abstract readonly operation: string;
  abstract readonly inputKeyNodes: Readonly<Record<string, KeyNodes>>;
  abstract readonly outputKeyNodes: Readonly<Record<string, KeyNodes>>;
  /** Never set: it carries the output type to `send`. */
  declare readonly output?: Output;
  constructor(readonly input: Input) {}
}

export class GetCommand extends DocumentCommand<GetCommandInput, GetCommandOutput> {
  readonly operation = "GetItem";
  readonly inputKeyNodes = nodes.get;
  readonly outputKeyNodes = nodes.getOutput;
}

export class PutCommand extends DocumentCommand<PutCommandInput, PutCommandOutput> {
  readonly operation = "PutItem";
  readonly inputKeyNodes = nodes.put;
  readonly outputKeyNodes = writeOutput;
}

export class UpdateCommand extends DocumentCommand<UpdateCommandInput, UpdateCommandOutput> {
  readonly operation = "UpdateItem";
  readonly inputKeyNodes = nodes.update;
  readonly outputKeyNodes = writeOutput;
}

export class DeleteCommand extends DocumentCommand<DeleteCommandInput, DeleteCommandOutput> {
  readonly operation = "DeleteItem";
  readonly inputKeyNodes = nodes.delete;
  readonly outputKeyNodes = writeOutput;
}

export class QueryCommand extends DocumentCommand<QueryCommandInput, QueryCommandOutput> {
  readonly operation = "Query";
  readonly inputKeyNodes = nodes.query;
  readonly outputKeyNodes = pageOutput;
}

export class ScanCommand extends DocumentCommand<ScanCommandInput, ScanCommandOutput> {
  readonly operation = "Scan";
  readonly inputKeyNodes = nodes.scan;
  readonly outputKeyNodes = pageOutput;
}

export class BatchGetCommand extends DocumentCommand<BatchGetCommandInput, BatchGetCommandOutput> {
  readonly operation = "BatchGetItem";
  readonly inputKeyNodes = nodes.batchGet;
  readonly outputKeyNodes = nodes.batchGetOutput;
}

export class BatchWriteCommand extends DocumentCommand<BatchWriteCommandInput, BatchWriteCommandOutput> {
  readonly operation = "BatchWriteItem";
  readonly inputKeyNodes = nodes.batchWrite;
  readonly outputKeyNodes = nodes.batchWriteOutput;
}

export class TransactWriteCommand extends DocumentCommand<TransactWriteCommandInput, TransactWriteCommandOutput> {
  readonly operation = "TransactWriteItems";
  readonly inputKeyNodes = nodes.transactWrite;
  readonly outputKeyNodes = nodes.transactWriteOutput;
}
