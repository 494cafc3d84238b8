import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getConfig } from "../../shared/config/index.js";
import { DocumentClient } from "../../shared/db/document.js";

// onair's DocumentClient against the SDK's, side by side: each case is one a hostile review found
// where they differed (undefined values, binary values, answers that are not JSON, a failed
// endpoint lookup). The SDK's answer is the expected one.
const credentials = { accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? "local", secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? "local" };
const marshallOptions = { removeUndefinedValues: true };
// DynamoDB Local keeps tables per access key and region: the stack's, for its table.
const clients = (endpoint: string, region = "us-east-1") => {
  const raw = () => new DynamoDBClient({ region, endpoint, credentials, maxAttempts: 3 });
  return { sdk: DynamoDBDocumentClient.from(raw(), { marshallOptions }), ours: new DocumentClient(raw(), { marshallOptions }) };
};

/** Either client, called the one way both take. */
type Sender = Pick<DocumentClient, "send">;

describe("the document client against DynamoDB Local, beside the SDK's", () => {
  const { dynamodb } = getConfig();
  const TableName = dynamodb.table;
  const { sdk, ours } = clients(dynamodb.endpoint!, dynamodb.region);
  const key = (name: string) => ({ pk: `DOCCLIENT#${randomUUID()}`, sk: name });

  it("drops an undefined attribute at the top of an item or of the expression values", async () => {
    for (const client of [sdk, ours] as Sender[]) {
      const item = key("undefined");
      await client.send(new PutCommand({ TableName, Item: { ...item, note: undefined, nested: { gone: undefined, kept: 1 } } }));
      await client.send(new UpdateCommand({ TableName, Key: item, UpdateExpression: "SET a = :a", ExpressionAttributeValues: { ":a": 1, ":b": undefined } }));
      expect((await client.send(new GetCommand({ TableName, Key: item, ConsistentRead: true }))).Item).toEqual({ ...item, nested: { kept: 1 }, a: 1 });
    }
  });

  it("writes binary values and reads them back as bytes, alone, in sets and in a query", async () => {
    const bytes = new Uint8Array([0, 1, 2, 255]);
    const item = { ...key("binary"), b: bytes, buffer: Buffer.from("onair"), bs: new Set([new Uint8Array([1]), new Uint8Array([2, 3])]), m: { inner: bytes } };
    await ours.send(new PutCommand({ TableName, Item: item }));
    const read = { sdk: await sdk.send(new GetCommand({ TableName, Key: { pk: item.pk, sk: item.sk }, ConsistentRead: true })), ours: await ours.send(new GetCommand({ TableName, Key: { pk: item.pk, sk: item.sk }, ConsistentRead: true })) };
    expect(read.sdk.Item!.b).toEqual(bytes);
    expect(read.ours.Item).toEqual(read.sdk.Item);
    const query = (client: Sender) => client.send(new QueryCommand({ TableName, KeyConditionExpression: "pk = :pk", ExpressionAttributeValues: { ":pk": item.pk }, ConsistentRead: true }));
    expect((await query(ours)).Items).toEqual((await query(sdk)).Items);
  });
});

describe("the document client against answers DynamoDB does not give, beside the SDK's", () => {
  let server: Server;
  let endpoint: string;
  let requests = 0;
  let answer: { status: number; type: string; body: string } = { status: 502, type: "text/html", body: "<html>502 Bad Gateway</html>" };
  beforeAll(async () => {
    server = createServer((request, response) => {
      request.resume();
      request.on("end", () => {
        requests++;
        response.writeHead(answer.status, { "content-type": answer.type });
        response.end(answer.body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => server?.close());

  /** What each client makes of the server's answer: its output or error, and how many requests it sent. */
  async function both(): Promise<{ sdk: { requests: number; outcome: any }; ours: { requests: number; outcome: any } }> {
    const { sdk, ours } = clients(endpoint);
    const run = async (client: Sender) => {
      requests = 0;
      const outcome = await client.send(new GetCommand({ TableName: "t", Key: { pk: "a", sk: "b" } })).catch((error: unknown) => error);
      return { requests, outcome };
    };
    return { sdk: await run(sdk), ours: await run(ours) };
  }

  it("retries a 5xx whose body is not JSON (a proxy's 502) and reports its status", async () => {
    answer = { status: 502, type: "text/html", body: "<html>502 Bad Gateway</html>" };
    const { sdk, ours } = await both();
    expect([sdk.requests, sdk.outcome.$metadata.httpStatusCode]).toEqual([3, 502]);
    expect([ours.requests, ours.outcome.$metadata.httpStatusCode]).toEqual([3, 502]);
  });

  it("takes an empty 200 as an empty answer, and fails a 200 that is not JSON with its status", async () => {
    answer = { status: 200, type: "application/x-amz-json-1.0", body: "" };
    const empty = await both();
    expect(empty.sdk.outcome.Item).toBeUndefined();
    expect(empty.ours.outcome.Item).toBeUndefined();
    answer = { status: 200, type: "application/x-amz-json-1.0", body: "{not json" };
    const garbage = await both();
    expect([garbage.sdk.requests, garbage.sdk.outcome.$metadata.httpStatusCode]).toEqual([1, 200]);
    expect([garbage.ours.requests, garbage.ours.outcome.$metadata.httpStatusCode]).toEqual([1, 200]);
  });

  it("looks its endpoint up again after a lookup failed", async () => {
    answer = { status: 200, type: "application/x-amz-json-1.0", body: "{}" };
    let lookups = 0;
    const region = async () => {
      if (lookups++ === 0) throw new Error("region lookup failed once");
      return "us-east-1";
    };
    const client = new DocumentClient(new DynamoDBClient({ region, endpoint, credentials, maxAttempts: 1 }), { marshallOptions });
    await expect(client.send(new GetCommand({ TableName: "t", Key: { pk: "a", sk: "b" } }))).rejects.toThrow("region lookup failed once");
    await expect(client.send(new GetCommand({ TableName: "t", Key: { pk: "a", sk: "b" } }))).resolves.toMatchObject({ $metadata: { httpStatusCode: 200 } });
  });
});
