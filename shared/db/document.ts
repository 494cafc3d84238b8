import { createHash, createHmac, randomUUID } from "node:crypto";
import { marshall, unmarshall, type marshallOptions } from "@aws-sdk/util-dynamodb";
import { resolveRetryConfig, retryMiddleware } from "@smithy/core/retry";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { SMITHY_CONTEXT_KEY } from "@smithy/types";
import type { DocumentCommand, KeyNodes } from "./commands.js";

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface DocumentClientOptions {
  /** The region requests are signed for, and sent to unless `endpoint` says otherwise. */
  region: string;
  /** Another endpoint (DynamoDB Local): `http://127.0.0.1:8000`. */
  endpoint?: string;
  /** Static keys (a function's), or a provider (a script's: the SDK's default chain). */
  credentials: Credentials | (() => Promise<Credentials>);
  /** Attempts per request, the first included (the SDK's standard retry strategy). */
  maxAttempts: number;
  marshallOptions: marshallOptions;
}

type AnyCommand = DocumentCommand<object, object>;
/** A command's output, as lib-dynamodb's command of the same name declares it. */
type OutputOf<Command extends AnyCommand> = NonNullable<Command["output"]>;

type Answer = { statusCode: number; headers: Record<string, string> };
type HttpResponse = Answer & { body: Buffer };

type Convert = (attribute: unknown) => unknown;

/** `value` with `convert` applied to each of its entries; `skipUndefined` drops a map's entries that come out undefined. */
function mapEntries(value: object, convert: Convert, skipUndefined: boolean): unknown {
  if (Array.isArray(value)) return value.map(convert);
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    const converted = convert(inner);
    if (!skipUndefined || converted !== undefined) out[key] = converted;
  }
  return out;
}

/**
 * A copy of `value` whose members named in `nodes` are converted where `nodes` says: lib-dynamodb's
 * `processKeysInObj`, which the package does not export.
 */
function convertMembers(value: object, nodes: Readonly<Record<string, KeyNodes>>, convert: Convert): unknown {
  const copy: Record<string, unknown> = { ...value };
  for (const [key, inner] of Object.entries(nodes)) {
    const converted = convertAt((value as Record<string, unknown>)[key], inner, convert);
    if (converted !== undefined) copy[key] = converted;
  }
  return copy;
}

/**
 * `value` with the attribute values `nodes` points at converted, as lib-dynamodb's commands
 * convert them (`processObj`): `null` is one value, `{}` each value of a map or list, `*` each
 * member with the nodes below it, and named keys those members.
 */
function convertAt(value: unknown, nodes: KeyNodes, convert: Convert): unknown {
  if (value === undefined) return undefined;
  if (nodes === null) return convert(value);
  const keys = Object.keys(nodes);
  // Each value as one, so an undefined value is dropped before it reaches marshall.
  if (keys.length === 0) return mapEntries(value as object, (inner) => convertAt(inner, null, convert), true);
  if (keys.length === 1 && keys[0] === "*") return mapEntries(value as object, (inner) => convertAt(inner, nodes["*"]!, convert), false);
  return convertMembers(value as object, nodes, convert);
}

const sha256Hex = (text: string) => createHash("sha256").update(text).digest("hex");

/**
 * The JSON of a request: binary values (`B`, `BS`: a Buffer, typed array, DataView or
 * ArrayBuffer) as base64, as DynamoDB takes them (`this[key]` is the value before Buffer's toJSON).
 */
function requestJson(input: unknown): string {
  // A replacer takes JSON.stringify off its fast path: only a request carrying bytes pays for one.
  if (!hasBytes(input)) return JSON.stringify(input);
  return JSON.stringify(input, function (this: Record<string, unknown>, key, value: unknown) {
    const original = this[key];
    if (ArrayBuffer.isView(original)) return Buffer.from(original.buffer, original.byteOffset, original.byteLength).toString("base64");
    return original instanceof ArrayBuffer ? Buffer.from(original).toString("base64") : value;
  });
}

function hasBytes(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return false;
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return true;
  for (const inner of Array.isArray(value) ? value : Object.values(value)) if (hasBytes(inner)) return true;
  return false;
}

const bytesOf = (base64: string) => new Uint8Array(Buffer.from(base64, "base64"));

/**
 * An answer's JSON with binary values as bytes, as the SDK gives them. In DynamoDB's answers a
 * string under `B`, or strings under `BS`, can only be an attribute value's type: a map's
 * members are attribute values, never bare strings.
 */
function answerJson(text: string): object {
  if (text.length === 0) return {};
  // A reviver runs for every value: only an answer that can hold bytes (a "B" or "BS" key) pays for one.
  const parsed: unknown = !text.includes('"B"') && !text.includes('"BS"')
    ? JSON.parse(text)
    : JSON.parse(text, (key, value: unknown) => {
        if (key === "B" && typeof value === "string") return bytesOf(value);
        if (key === "BS" && Array.isArray(value) && value.every((item) => typeof item === "string")) return value.map(bytesOf);
        return value;
      });
  // `null` or a bare value is no answer DynamoDB gives; the SDK reads it as an empty one.
  return typeof parsed === "object" && parsed !== null ? parsed : {};
}

/**
 * `db.doc.send(new GetCommand(…))`: DynamoDB's JSON protocol without the SDK's client. The SDK
 * resolved a middleware stack, endpoint rules, an auth scheme and schema-driven serde on every
 * call, which cost about as much CPU as the rest of a request, and its client, protocol and
 * schemas were most of a function's bundle. This sends the same JSON, marshalled at the key
 * nodes of lib-dynamodb's commands (shared/db/commands.ts), signed with SigV4 at the SDK's
 * skew-corrected time, through the SDK's own HTTP handler and standard retry middleware and
 * strategy (DynamoDB's 25 ms base delay). So retries, backoff and the retry quota are the
 * SDK's own code. Clock-skew correction, the regional endpoint and the errors thrown (`errorOf`:
 * name, message, `$fault`, `$metadata`, `$retryable` and the answer's fields such as
 * cancellation reasons) follow the SDK's rules, and test/integration/document-client.test.ts
 * holds them to the SDK's client, side by side.
 */
export class DocumentClient {
  private readonly marshallOptions: marshallOptions;
  private readonly url: URL;
  private readonly region: string;
  private readonly credentials: () => Promise<Credentials>;
  private readonly requestHandler = new NodeHttpHandler();
  private readonly retry: ReturnType<typeof resolveRetryConfig>;
  /** Milliseconds the local clock is behind DynamoDB's (the clock-skew correction moves it). */
  systemClockOffset = 0;
  /** Shown each call (its DynamoDB operation, outcome and input): benchmarks count and time requests with it. */
  observer?: (operation: string, call: Promise<object>, input: object) => void;

  constructor(options: DocumentClientOptions) {
    this.marshallOptions = { ...options.marshallOptions, convertTopLevelContainer: true };
    this.region = options.region;
    this.url = options.endpoint ? new URL(options.endpoint) : regionalEndpoint(options.region);
    const { credentials } = options;
    this.credentials = typeof credentials === "function" ? credentials : async () => credentials;
    // As the SDK's DynamoDB client resolves it: standard mode, a 25 ms base delay.
    this.retry = resolveRetryConfig({ maxAttempts: options.maxAttempts, retryMode: async () => "standard" }, { defaultBaseDelay: 25, defaultMaxAttempts: 4 });
  }

  async send<Command extends AnyCommand>(command: Command, options: { abortSignal?: AbortSignal } = {}): Promise<OutputOf<Command>> {
    const { operation, inputKeyNodes, outputKeyNodes } = command;
    // A transaction without its idempotency token gets one, as from the SDK: every retry of it sends
    // the same, so DynamoDB applies it once however many answers are lost.
    const input = operation === "TransactWriteItems" && !("ClientRequestToken" in command.input && command.input.ClientRequestToken) ? { ...command.input, ClientRequestToken: randomUUID() } : command.input;
    const body = requestJson(convertMembers(input, inputKeyNodes, (attribute) => marshall(attribute, this.marshallOptions)));
    const context = { [SMITHY_CONTEXT_KEY]: { abortSignal: options.abortSignal } };
    const attempt = async () => {
      const offsetBefore = this.systemClockOffset;
      const sentAt = Date.now();
      let response: HttpResponse;
      try {
        response = await this.post(operation, body, new Date(sentAt + offsetBefore), options.abortSignal);
        if (response.statusCode >= 300) throw errorOf(response);
      } catch (error) {
        const answer = (error as { $response?: Answer }).$response;
        this.systemClockOffset = updatedClockOffset((error as { ServerTime?: string }).ServerTime ?? answer?.headers.date, this.systemClockOffset, sentAt, answer?.headers.age);
        const metadata = (error as { $metadata?: Record<string, unknown> }).$metadata;
        // A request signed too far off is retried at the corrected time (the retry strategy reads this).
        if (Math.abs(this.systemClockOffset) >= 240_000 && this.systemClockOffset !== offsetBefore && metadata) metadata.clockSkewCorrected = true;
        throw error;
      }
      this.systemClockOffset = updatedClockOffset(response.headers.date, this.systemClockOffset, sentAt, response.headers.age);
      let answer: object;
      try {
        answer = answerJson(response.body.toString("utf8"));
      } catch (error) {
        // Not JSON: an error of this answer (its status in $metadata), as the SDK's deserializer makes it.
        throw withAnswer(error as Error, response);
      }
      const output = convertMembers(answer, outputKeyNodes, (attribute) => unmarshall(attribute as never, { convertWithoutMapWrapper: true }));
      // The retry middleware counts attempts into it, as on the SDK's outputs.
      return { response, output: { ...(output as object), $metadata: metadataOf(response) } };
    };
    const retrying = retryMiddleware(this.retry as never)(attempt as never, context as never);
    const call = retrying({ input, request: {} } as never).then(({ output }) => output as OutputOf<Command>);
    this.observer?.(operation, call, input);
    return call;
  }

  /** Close the kept-alive connections (tests and scripts; a function's client lives as long as it). */
  destroy(): void {
    this.requestHandler.destroy();
  }

  /** One signed POST to DynamoDB, its whole body read. */
  private async post(operation: string, body: string, date: Date, abortSignal: AbortSignal | undefined): Promise<HttpResponse> {
    const { url, region } = this;
    const headers = signedDynamoDbHeaders({ url, region, operation, body, credentials: await this.credentials(), date });
    const request = { protocol: url.protocol, hostname: url.hostname, port: url.port ? Number(url.port) : undefined, method: "POST", path: url.pathname, headers, body };
    const { response } = await this.requestHandler.handle(request as never, { abortSignal });
    try {
      return { statusCode: response.statusCode, headers: response.headers, body: await readAll(response.body as NodeJS.ReadableStream) };
    } catch (error) {
      throw withAnswer(error as Error, response);
    }
  }
}

/**
 * DynamoDB's endpoint in `region`, as the SDK's endpoint rules give it (without FIPS or dual
 * stack, which onair does not ask for): test/integration/document-client.test.ts compares them.
 */
export function regionalEndpoint(region: string): URL {
  const suffix = partitionSuffixes.find(([prefix]) => region.startsWith(prefix))?.[1] ?? "amazonaws.com";
  return new URL(`https://dynamodb.${region}.${suffix}`);
}

/** The DNS suffix of each AWS partition other than the commercial one (and GovCloud, which shares it), by region prefix. */
const partitionSuffixes = [
  ["cn-", "amazonaws.com.cn"],
  ["us-iso-", "c2s.ic.gov"],
  ["us-isob-", "sc2s.sgov.gov"],
  ["us-isof-", "csp.hci.ic.gov"],
  ["eu-isoe-", "cloud.adc-e.uk"],
  ["eusc-", "amazonaws.eu"],
] as const;

/**
 * The SDK's clock-skew correction (its SigV4 signer's): the local clock's offset from the
 * server's `Date`, unless the answer came from a cache (`Age`), took over 15 minutes, or has no
 * date to read.
 */
function updatedClockOffset(serverDate: string | undefined, offset: number, sentAt: number, age: string | undefined): number {
  if (serverDate === undefined || age !== undefined) return offset;
  const serverTime = Date.parse(serverDate);
  const receivedAt = Date.now();
  if (Number.isNaN(serverTime) || receivedAt - sentAt > 900_000) return offset;
  return serverTime - receivedAt;
}

/** An answer's `$metadata`, as the SDK reads it from the headers. */
function metadataOf(response: Answer) {
  const { headers } = response;
  return {
    httpStatusCode: response.statusCode,
    requestId: headers["x-amzn-requestid"] ?? headers["x-amzn-request-id"] ?? headers["x-amz-request-id"],
    extendedRequestId: headers["x-amz-id-2"],
    cfId: headers["x-amz-cf-id"],
  };
}

/** The one error DynamoDB's model marks a server fault; any other it names is the client's. */
const serverFaults = new Set(["InternalServerError"]);
/** Errors DynamoDB's model marks retryable (the SDK sets `$retryable` on them). */
const retryableErrors = new Set(["ReplicatedWriteConflictException"]);

/**
 * The error the SDK throws for DynamoDB's error answer: named by the answer's `__type`, `code` or
 * `x-amzn-errortype` (namespace cut), with the answer's fields (`CancellationReasons`, `Item`…,
 * binary values as bytes) and its message as `message`. An answer that is not JSON throws the
 * parse error, with the answer's status, as the SDK's does.
 */
function errorOf(response: HttpResponse): Error {
  let data: Record<string, unknown>;
  try {
    data = answerJson(response.body.toString("utf8")) as Record<string, unknown>;
  } catch (error) {
    return withAnswer(error as Error, response);
  }
  const codeKey = Object.keys(data).find((key) => key.toLowerCase() === "code");
  const headerKey = Object.keys(response.headers).find((key) => key.toLowerCase() === "x-amzn-errortype");
  const identifier = data.__type ?? (codeKey ? data[codeKey] : undefined) ?? (headerKey ? response.headers[headerKey] : undefined);
  const name = identifier === undefined ? "Unknown" : errorName(String(identifier));
  const error = new Error() as Error & Record<string, unknown>;
  Object.assign(error, {
    name,
    // (The SDK takes a modelled error's fault from the model: the same, for any status DynamoDB answers with.)
    $fault: serverFaults.has(name) || response.statusCode >= 500 ? "server" : "client",
    $metadata: metadataOf(response),
    ...(retryableErrors.has(name) ? { $retryable: {} } : {}),
  });
  for (const [key, value] of Object.entries(data)) if (value !== undefined && key !== "Message" && error[key] === undefined) error[key] = value;
  error.message = String(data.message ?? data.Message ?? "UnknownError");
  return withAnswer(error, response);
}

/** `com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException:http://…` → `ConditionalCheckFailedException`, as the SDK cuts it. */
function errorName(identifier: string): string {
  let name = identifier.split(",")[0]!.split(":")[0]!;
  if (name.includes("#")) name = name.split("#")[1]!;
  return name;
}

/** The last SigV4 signing key: it changes only with the day (and the secret), so it is derived once a day. */
let signingKey: { secret: string; scope: string; key: Buffer } | undefined;

function signingKeyFor(secret: string, day: string, region: string): Buffer {
  const scope = `${day}/${region}`;
  if (signingKey?.secret !== secret || signingKey.scope !== scope) {
    const key = [day, region, "dynamodb", "aws4_request"].reduce<Buffer | string>((parent, part) => createHmac("sha256", parent).update(part).digest(), `AWS4${secret}`) as Buffer;
    signingKey = { secret, scope, key };
  }
  return signingKey.key;
}

/** The headers of a DynamoDB JSON request, signed with SigV4 as the SDK signs them. */
export function signedDynamoDbHeaders(request: {
  url: URL;
  region: string;
  operation: string;
  body: string;
  credentials: Credentials;
  date: Date;
}): Record<string, string> {
  const { url, region, credentials } = request;
  const amzDate = request.date.toISOString().replace(/[-:]|\.\d{3}/g, "");
  const day = amzDate.slice(0, 8);
  const payloadHash = sha256Hex(request.body);
  // In SigV4's order: sorted by name. The SDK sends the payload's hash too.
  const headers: Record<string, string> = {
    "content-type": "application/x-amz-json-1.0",
    host: url.host,
    "x-amz-content-sha256": payloadHash,
    "x-amz-date": amzDate,
    // As SigV4 reads a header's value: trimmed, runs of spaces as one (a token pasted with a stray space).
    ...(credentials.sessionToken ? { "x-amz-security-token": credentials.sessionToken.trim().replace(/\s+/g, " ") } : {}),
    "x-amz-target": `DynamoDB_20120810.${request.operation}`,
  };
  const signedHeaders = Object.keys(headers).join(";");
  const canonicalHeaders = Object.entries(headers).map(([name, value]) => `${name}:${value}\n`).join("");
  const canonicalRequest = `POST\n${url.pathname}\n\n${canonicalHeaders}\n${signedHeaders}\n${payloadHash}`;
  const scope = `${day}/${region}/dynamodb/aws4_request`;
  const signature = createHmac("sha256", signingKeyFor(credentials.secretAccessKey, day, region)).update(`AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${sha256Hex(canonicalRequest)}`).digest("hex");
  return {
    ...headers,
    authorization: `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
    "content-length": String(Buffer.byteLength(request.body)),
  };
}

/**
 * `error` as the SDK's deserializer leaves an error met while reading an answer: the answer kept
 * (the retry strategy and clock-skew correction read its headers) and, when the error has no
 * `$metadata` (it is not DynamoDB's: a body cut short, or not JSON), a hint in its message and
 * the answer's status as its `$metadata` (so an answer cut mid-body is not a store outage).
 */
function withAnswer(error: Error, response: Answer): Error {
  Object.defineProperty(error, "$response", { value: response, enumerable: false });
  if (!("$metadata" in error)) {
    error.message += "\n  Deserialization error: to see the raw response, inspect the hidden field {error}.$response on this object.";
    Object.assign(error, { $metadata: metadataOf(response) });
  }
  return error;
}

/** The whole body (events, not async iteration: an async iterator per response cost more than the read). */
function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.once("end", () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    stream.once("error", reject);
  });
}
