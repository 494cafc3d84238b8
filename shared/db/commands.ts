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

type Nodes = Readonly<Record<string, KeyNodes>>;

/**
 * A DynamoDB request in plain JavaScript values, for `db.doc.send`: the input lib-dynamodb's
 * command of the same name takes, the same key nodes (copied from lib-dynamodb, which keeps
 * them protected), and the output it gives. These carry no SDK client code, so a function's
 * bundle holds none: `Output` types the answer only.
 */
export class DocumentCommand<Input extends object, Output extends object> {
  /** Never set: it carries the output type to `send`. */
  declare readonly output?: Output;
  constructor(
    /** The DynamoDB operation (`X-Amz-Target: DynamoDB_20120810.<operation>`). */
    readonly operation: string,
    readonly inputKeyNodes: Nodes,
    readonly outputKeyNodes: Nodes,
    readonly input: Input,
  ) {}
}

/** The command class of one operation; its key nodes are built once, commands are made per request. */
const command = <Input extends object, Output extends object>(operation: string, inputKeyNodes: Nodes, outputKeyNodes: Nodes) =>
  class extends DocumentCommand<Input, Output> {
    constructor(input: Input) {
      super(operation, inputKeyNodes, outputKeyNodes, input);
    }
  };

export class GetCommand extends command<GetCommandInput, GetCommandOutput>("GetItem", { Key: allValues }, { Item: allValues }) {}
export class PutCommand extends command<PutCommandInput, PutCommandOutput>("PutItem", { Item: allValues, Expected: legacyConditions, ExpressionAttributeValues: allValues }, writeOutput) {}
export class UpdateCommand extends command<UpdateCommandInput, UpdateCommandOutput>(
  "UpdateItem",
  { Key: allValues, AttributeUpdates: each({ Value: value }), Expected: legacyConditions, ExpressionAttributeValues: allValues },
  writeOutput,
) {}
export class DeleteCommand extends command<DeleteCommandInput, DeleteCommandOutput>("DeleteItem", { Key: allValues, Expected: legacyConditions, ExpressionAttributeValues: allValues }, writeOutput) {}
export class QueryCommand extends command<QueryCommandInput, QueryCommandOutput>(
  "Query",
  { KeyConditions: each({ AttributeValueList: allValues }), QueryFilter: each({ AttributeValueList: allValues }), ExclusiveStartKey: allValues, ExpressionAttributeValues: allValues },
  pageOutput,
) {}
export class ScanCommand extends command<ScanCommandInput, ScanCommandOutput>("Scan", { ScanFilter: each({ AttributeValueList: allValues }), ExclusiveStartKey: allValues, ExpressionAttributeValues: allValues }, pageOutput) {}
export class BatchGetCommand extends command<BatchGetCommandInput, BatchGetCommandOutput>(
  "BatchGetItem",
  { RequestItems: each({ Keys: each(allValues) }) },
  { Responses: each(each(allValues)), UnprocessedKeys: each({ Keys: each(allValues) }) },
) {}
export class BatchWriteCommand extends command<BatchWriteCommandInput, BatchWriteCommandOutput>(
  "BatchWriteItem",
  { RequestItems: writeRequests },
  { UnprocessedItems: writeRequests, ItemCollectionMetrics: perTableMetrics },
) {}
export class TransactWriteCommand extends command<TransactWriteCommandInput, TransactWriteCommandOutput>(
  "TransactWriteItems",
  {
    TransactItems: each({
      ConditionCheck: { Key: allValues, ExpressionAttributeValues: allValues },
      Put: { Item: allValues, ExpressionAttributeValues: allValues },
      Delete: { Key: allValues, ExpressionAttributeValues: allValues },
      Update: { Key: allValues, ExpressionAttributeValues: allValues },
    }),
  },
  { ItemCollectionMetrics: perTableMetrics },
) {}
