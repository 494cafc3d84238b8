import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import * as sdkCommands from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getConfig } from "../../shared/config/index.js";
import * as ourCommands from "../../shared/db/commands.js";
import { DocumentClient, regionalEndpoint } from "../../shared/db/document.js";

// onair's DocumentClient against the SDK's, side by side: the SDK's answer is the expected one.
// Each client is sent its own command of the same name and input (the SDK's client takes only
// lib-dynamodb's commands, onair's only its own light ones).
const credentials = { accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? "local", secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? "local" };
const marshallOptions = { removeUndefinedValues: true };
const clientsFor = (endpoint: string, region = "us-east-1") => ({
  sdk: sdkCommands.DynamoDBDocumentClient.from(new DynamoDBClient({ region, endpoint, credentials, maxAttempts: 3 }), { marshallOptions }),
  ours: new DocumentClient({ region, endpoint, credentials, maxAttempts: 3, marshallOptions }),
});
type Clients = ReturnType<typeof clientsFor>;
type Name = "GetCommand" | "PutCommand" | "UpdateCommand" | "QueryCommand" | "TransactWriteCommand";

/** Send the command `name` with `input` through one of the two clients: its outcome, or the error it threw. */
async function send(clients: Clients, which: "sdk" | "ours", name: Name, input: object): Promise<any> {
  if (which === "sdk") return clients.sdk.send(new (sdkCommands[name] as new (input: object) => any)(input));
  return clients.ours.send(new (ourCommands[name] as new (input: object) => any)(input));
}
const outcome = (call: Promise<any>) => call.catch((error: unknown) => error);

describe("the document client against DynamoDB Local, beside the SDK's", () => {
  const { dynamodb } = getConfig();
  const TableName = dynamodb.table;
  const clients = clientsFor(dynamodb.endpoint!, dynamodb.region);
  const key = (name: string) => ({ pk: `DOCCLIENT#${randomUUID()}`, sk: name });
  afterAll(() => clients.ours.destroy());

  it("drops an undefined attribute at the top of an item or of the expression values", async () => {
    for (const which of ["sdk", "ours"] as const) {
      const item = key("undefined");
      await send(clients, which, "PutCommand", { TableName, Item: { ...item, note: undefined, nested: { gone: undefined, kept: 1 } } });
      await send(clients, which, "UpdateCommand", { TableName, Key: item, UpdateExpression: "SET a = :a", ExpressionAttributeValues: { ":a": 1, ":b": undefined } });
      expect((await send(clients, which, "GetCommand", { TableName, Key: item, ConsistentRead: true })).Item).toEqual({ ...item, nested: { kept: 1 }, a: 1 });
    }
  });

  it("writes binary values and reads them back as bytes, alone, in sets and in a query", async () => {
    const bytes = new Uint8Array([0, 1, 2, 255]);
    const item = {
      ...key("binary"),
      b: bytes,
      buffer: Buffer.from("onair"),
      bs: new Set([new Uint8Array([1]), new Uint8Array([2, 3])]),
      m: { inner: bytes },
      arrayBuffer: new Uint8Array([9, 8]).buffer,
      view: new DataView(new Uint8Array([5, 6, 7]).buffer, 1, 2),
    };
    await send(clients, "ours", "PutCommand", { TableName, Item: item });
    const get = { TableName, Key: { pk: item.pk, sk: item.sk }, ConsistentRead: true };
    const read = { sdk: await send(clients, "sdk", "GetCommand", get), ours: await send(clients, "ours", "GetCommand", get) };
    expect(read.sdk.Item!.b).toEqual(bytes);
    expect([read.sdk.Item!.arrayBuffer, read.sdk.Item!.view]).toEqual([new Uint8Array([9, 8]), new Uint8Array([6, 7])]);
    expect(read.ours.Item).toEqual(read.sdk.Item);
    const query = { TableName, KeyConditionExpression: "pk = :pk", ExpressionAttributeValues: { ":pk": item.pk }, ConsistentRead: true };
    expect((await send(clients, "ours", "QueryCommand", query)).Items).toEqual((await send(clients, "sdk", "QueryCommand", query)).Items);
  });

  it("throws DynamoDB's refusals as the SDK does: a failed condition with the item, a cancelled transaction with its reasons", async () => {
    const item = { ...key("refusals"), coins: 5, b: new Uint8Array([7]) };
    await send(clients, "ours", "PutCommand", { TableName, Item: item });
    const refused = { TableName, Item: item, ConditionExpression: "attribute_not_exists(pk)", ReturnValuesOnConditionCheckFailure: "ALL_OLD" };
    const cancelled = {
      TransactItems: [
        { Update: { TableName, Key: { pk: item.pk, sk: item.sk }, UpdateExpression: "SET coins = coins - :n", ConditionExpression: "coins >= :n", ExpressionAttributeValues: { ":n": 9 }, ReturnValuesOnConditionCheckFailure: "ALL_OLD" } },
        { Put: { TableName, Item: key("other") } },
      ],
    };
    for (const [name, input] of [["PutCommand", refused], ["TransactWriteCommand", cancelled]] as const) {
      const sdk = await outcome(send(clients, "sdk", name, input));
      const ours = await outcome(send(clients, "ours", name, input));
      expect(comparable(ours)).toEqual(comparable(sdk));
    }
  });
});

/**
 * What code may read of an error: name, message, fault, retryable, its own fields, and its
 * `$metadata` (attempts included) but for the backoff it waited, which is random.
 */
function comparable(error: any) {
  const { $metadata, $response, ...fields } = error as Record<string, any>;
  // DynamoDB Local gives each request its own id: the two clients' can only both be there.
  const { totalRetryDelay, requestId, ...metadata } = $metadata ?? {};
  return { name: error.name, message: error.message, $retryable: error.$retryable, fields: Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)), metadata, requestId: typeof requestId };
}

describe("the document client against answers scripted to it, beside the SDK's", () => {
  let server: Server;
  let endpoint: string;
  let requests = 0;
  /** The time each request was signed for (its X-Amz-Date), and its body. */
  const signedAt: number[] = [];
  const bodies: string[] = [];
  let answer: { status: number; type: string; body: string; headers?: Record<string, string>; then?: typeof answer } = { status: 502, type: "text/html", body: "<html>502 Bad Gateway</html>" };
  beforeAll(async () => {
    server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        bodies.push(Buffer.concat(chunks).toString("utf8"));
        requests++;
        signedAt.push(Date.parse(String(request.headers["x-amz-date"]).replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, "$1-$2-$3T$4:$5:$6Z")));
        response.writeHead(answer.status, { "content-type": answer.type, "x-amzn-requestid": `req-${requests}`, ...answer.headers });
        response.end(answer.body);
        // A scripted sequence: this answer once, then the next.
        if (answer.then) answer = answer.then;
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => server?.close());

  /** What each client makes of the server's answer: its output or error, and how many requests it sent. */
  async function both(): Promise<{ sdk: { requests: number; outcome: any }; ours: { requests: number; outcome: any } }> {
    const clients = clientsFor(endpoint);
    const run = async (which: "sdk" | "ours") => {
      requests = 0;
      return { outcome: await outcome(send(clients, which, "GetCommand", { TableName: "t", Key: { pk: "a", sk: "b" } })), requests };
    };
    const result = { sdk: await run("sdk"), ours: await run("ours") };
    clients.ours.destroy();
    return result;
  }

  it("retries a 5xx whose body is not JSON (a proxy's 502) and reports its status", async () => {
    answer = { status: 502, type: "text/html", body: "<html>502 Bad Gateway</html>" };
    const { sdk, ours } = await both();
    expect([sdk.requests, sdk.outcome.$metadata.httpStatusCode]).toEqual([3, 502]);
    expect([ours.requests, ours.outcome.$metadata.httpStatusCode]).toEqual([3, 502]);
    expect(ours.outcome.name).toBe(sdk.outcome.name);
  });

  it("takes an empty or null 200 as an empty answer, and fails a 200 that is not JSON with its status", async () => {
    answer = { status: 200, type: "application/x-amz-json-1.0", body: "" };
    const empty = await both();
    expect(empty.sdk.outcome.Item).toBeUndefined();
    expect(empty.ours.outcome.Item).toBeUndefined();
    expect(empty.ours.outcome.$metadata).toEqual(empty.sdk.outcome.$metadata);
    answer = { status: 200, type: "application/x-amz-json-1.0", body: "null" };
    const none = await both();
    expect([none.sdk.outcome.Item, none.sdk.outcome.$metadata.httpStatusCode]).toEqual([undefined, 200]);
    expect([none.ours.outcome.Item, none.ours.outcome.$metadata.httpStatusCode]).toEqual([undefined, 200]);
    answer = { status: 200, type: "application/x-amz-json-1.0", body: "{not json" };
    const garbage = await both();
    expect([garbage.sdk.requests, garbage.sdk.outcome.$metadata.httpStatusCode]).toEqual([1, 200]);
    expect([garbage.ours.requests, garbage.ours.outcome.$metadata.httpStatusCode]).toEqual([1, 200]);
  });

  const type = (name: string) => `com.amazonaws.dynamodb.v20120810#${name}`;
  const errorAnswers: [string, typeof answer][] = [
    ["a throttle (retried)", { status: 400, type: "application/x-amz-json-1.0", body: JSON.stringify({ __type: type("ProvisionedThroughputExceededException"), message: "slow down" }) }],
    ["a transaction throttle with reasons", { status: 400, type: "application/x-amz-json-1.0", body: JSON.stringify({ __type: type("ThrottlingException"), message: "Throughput exceeds", ThrottlingReasons: [{ reason: "TableWriteProvisionedThroughputExceeded", resource: "t" }] }) }],
    ["an internal error (a server fault, retried)", { status: 500, type: "application/x-amz-json-1.0", body: JSON.stringify({ __type: type("InternalServerError"), message: "Internal server error" }) }],
    ["a replicated write conflict (retryable by the model)", { status: 400, type: "application/x-amz-json-1.0", body: JSON.stringify({ __type: type("ReplicatedWriteConflictException"), message: "conflict" }) }],
    ["a validation error with Message", { status: 400, type: "application/x-amz-json-1.0", body: JSON.stringify({ __type: "com.amazon.coral.validate#ValidationException", Message: "One or more parameter values were invalid" }) }],
    ["a cancelled transaction with reasons and an item", { status: 400, type: "application/x-amz-json-1.0", body: JSON.stringify({ __type: type("TransactionCanceledException"), Message: "Transaction cancelled", CancellationReasons: [{ Code: "ConditionalCheckFailed", Message: "The conditional request failed", Item: { pk: { S: "a" }, n: { N: "1" }, b: { B: "AAEC" } } }, { Code: "None" }] }) }],
    ["a failed condition with the old item", { status: 400, type: "application/x-amz-json-1.0", body: JSON.stringify({ __type: type("ConditionalCheckFailedException"), message: "The conditional request failed", Item: { pk: { S: "a" }, bs: { BS: ["AA==", "AQ=="] } } }) }],
    ["an error DynamoDB's model does not name", { status: 400, type: "application/x-amz-json-1.0", body: JSON.stringify({ __type: type("SomethingNewException"), message: "new", Detail: 3 }) }],
    ["an error named by a code field", { status: 400, type: "application/x-amz-json-1.0", body: JSON.stringify({ code: "AccessDeniedException", message: "denied" }) }],
    ["an error named only by x-amzn-errortype", { status: 400, type: "application/x-amz-json-1.0", body: JSON.stringify({ message: "no type" }), headers: { "x-amzn-errortype": "UnrecognizedClientException:http://internal.amazon.com/coral/com.amazon.coral.service/" } }],
    ["an error naming nothing", { status: 400, type: "application/x-amz-json-1.0", body: "{}" }],
    ["a 503 naming nothing", { status: 503, type: "application/x-amz-json-1.0", body: "" }],
    ["a 400 that is not JSON", { status: 400, type: "text/plain", body: "Bad Request" }],
  ];
  for (const [title, scripted] of errorAnswers) {
    it(`throws what the SDK throws for ${title}, after as many requests`, async () => {
      answer = scripted;
      const { sdk, ours } = await both();
      expect(ours.requests).toBe(sdk.requests);
      expect(comparable(ours.outcome)).toEqual(comparable(sdk.outcome));
    });
  }

  it("corrects its clock by the server's Date when a signature is refused as expired, and retries signed at the server's time", async () => {
    const twoHoursAhead = new Date(Date.now() + 2 * 3_600_000).toUTCString();
    const expired = { status: 400, type: "application/x-amz-json-1.0", body: JSON.stringify({ __type: "com.amazon.coral.service#InvalidSignatureException", message: "Signature expired: 20261202T010000Z is now earlier than 20261202T025500Z" }) };
    const results = [];
    for (const which of ["sdk", "ours"] as const) {
      answer = { ...expired, headers: { date: twoHoursAhead }, then: { status: 200, type: "application/x-amz-json-1.0", body: "{}" } };
      const clients = clientsFor(endpoint);
      requests = 0;
      signedAt.length = 0;
      const result = await outcome(send(clients, which, "GetCommand", { TableName: "t", Key: { pk: "a", sk: "b" } }));
      clients.ours.destroy();
      results.push({ requests, attempts: result.$metadata?.attempts, retrySignedAhead: Math.round((signedAt[1]! - Date.now()) / 3_600_000) });
    }
    expect(results[1]).toEqual(results[0]);
    expect(results[0]).toEqual({ requests: 2, attempts: 2, retrySignedAhead: 2 });
  });

  it("gives a transaction without an idempotency token one, and sends the same on every retry, as the SDK does", async () => {
    answer = { status: 500, type: "application/x-amz-json-1.0", body: JSON.stringify({ __type: type("InternalServerError"), message: "lost" }) };
    const transaction = { TransactItems: [{ Update: { TableName: "t", Key: { pk: "w", sk: "W" }, UpdateExpression: "ADD coins :n", ExpressionAttributeValues: { ":n": 1 } } }] };
    const tokens: Record<string, string[]> = {};
    for (const which of ["sdk", "ours"] as const) {
      const clients = clientsFor(endpoint);
      bodies.length = 0;
      await outcome(send(clients, which, "TransactWriteCommand", transaction));
      clients.ours.destroy();
      tokens[which] = bodies.map((body) => (JSON.parse(body) as { ClientRequestToken?: string }).ClientRequestToken ?? "none");
    }
    for (const sent of Object.values(tokens)) {
      expect(sent).toHaveLength(3);
      expect(new Set(sent).size).toBe(1);
      expect(sent[0]).toMatch(/^[0-9a-f-]{36}$/);
    }
    // The caller's own token is kept.
    const clients = clientsFor(endpoint);
    bodies.length = 0;
    await outcome(send(clients, "ours", "TransactWriteCommand", { ...transaction, ClientRequestToken: "mine" }));
    clients.ours.destroy();
    expect(bodies.map((body) => (JSON.parse(body) as { ClientRequestToken?: string }).ClientRequestToken)).toEqual(["mine", "mine", "mine"]);
  });

  it("asks a failing credentials provider again on the next call", async () => {
    answer = { status: 200, type: "application/x-amz-json-1.0", body: "{}" };
    let asked = 0;
    const provider = async () => {
      if (asked++ === 0) throw new Error("credentials failed once");
      return credentials;
    };
    const client = new DocumentClient({ region: "us-east-1", endpoint, credentials: provider, maxAttempts: 1, marshallOptions });
    await expect(client.send(new ourCommands.GetCommand({ TableName: "t", Key: { pk: "a", sk: "b" } }))).rejects.toThrow("credentials failed once");
    await expect(client.send(new ourCommands.GetCommand({ TableName: "t", Key: { pk: "a", sk: "b" } }))).resolves.toMatchObject({ $metadata: { httpStatusCode: 200 } });
    client.destroy();
  });
});

describe("DynamoDB's endpoint in a region", () => {
  it("is the one the SDK's endpoint rules give, in every partition", () => {
    for (const region of ["us-east-1", "ap-southeast-1", "ap-east-1", "cn-north-1", "cn-northwest-1", "us-gov-west-1", "us-iso-east-1", "us-isob-east-1", "us-isof-south-1", "eu-isoe-west-1", "eusc-de-east-1"]) {
      const sdk = new DynamoDBClient({ region }).config.endpointProvider({ Region: region, UseFIPS: false, UseDualStack: false });
      expect(regionalEndpoint(region).href, region).toBe(sdk.url.href);
    }
  });
});
