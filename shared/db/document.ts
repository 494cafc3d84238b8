import { createHash, createHmac } from "node:crypto";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { DynamoDBDocumentClientCommand } from "@aws-sdk/lib-dynamodb";
import { AwsSdkSigV4Signer } from "@aws-sdk/core/httpAuthSchemes";
import { marshall, unmarshall, type marshallOptions } from "@aws-sdk/util-dynamodb";
import { retryMiddleware } from "@smithy/core/retry";
import { SMITHY_CONTEXT_KEY } from "@smithy/types";

/** Which parts of a command's input or output are attribute maps (lib-dynamodb's key nodes). */
type KeyNodes = { [key: string]: KeyNodes } | null;

/** The parts of a lib-dynamodb command this client reads (fields the command keeps protected). */
interface DocumentCommand {
  input: object;
  inputKeyNodes: Record<string, KeyNodes>;
  outputKeyNodes: Record<string, KeyNodes>;
  /** The DynamoDB command it wraps; its operation schema is `[9, namespace, name, traits, input, output]`. */
  clientCommand: { schema: [number, string, string, unknown, unknown, unknown] };
}

// Any command, whatever its input and output.
type AnyDocumentCommand = DynamoDBDocumentClientCommand<any, any, any, any, any>;
/** A command's output type, as its own handler declares it. */
type OutputOf<Command extends AnyDocumentCommand> = Awaited<ReturnType<ReturnType<Command["resolveMiddleware"]>>>["output"];

/** The SDK's JSON protocol, for the error it makes of an error answer (it always throws one). */
type ErrorReader = { deserializeResponse(operation: object, context: object, response: HttpResponse): Promise<never> };

type HttpResponse = { statusCode: number; headers: Record<string, string>; body: Buffer };

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
function convertMembers(value: object, nodes: Record<string, KeyNodes>, convert: Convert): unknown {
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

/** The JSON of a request: binary values (`B`, `BS`) as base64, as DynamoDB takes them (`this[key]` is the value before Buffer's toJSON). */
function requestJson(input: unknown): string {
  return JSON.stringify(input, function (this: Record<string, unknown>, key, value: unknown) {
    const original = this[key];
    return original instanceof Uint8Array ? Buffer.from(original.buffer, original.byteOffset, original.byteLength).toString("base64") : value;
  });
}

const bytesOf = (base64: string) => new Uint8Array(Buffer.from(base64, "base64"));

/**
 * An answer's JSON with binary values as bytes, as the SDK gives them. In DynamoDB's answers a
 * string under `B`, or strings under `BS`, can only be an attribute value's type: a map's
 * members are attribute values, never bare strings.
 */
function answerJson(text: string): object {
  if (text.length === 0) return {};
  return JSON.parse(text, (key, value: unknown) => {
    if (key === "B" && typeof value === "string") return bytesOf(value);
    if (key === "BS" && Array.isArray(value) && value.every((item) => typeof item === "string")) return value.map(bytesOf);
    return value;
  }) as object;
}

/** The SDK's clock-skew correction: it moves `systemClockOffset` by the Date of DynamoDB's answers. */
const clockSkew = new AwsSdkSigV4Signer();

/**
 * `db.doc.send(new GetCommand(…))` without the SDK's per-call machinery. The SDK resolved a
 * middleware stack, endpoint rules, an auth scheme and schema-driven serde on every call, which
 * cost about as much CPU as the rest of a request. This sends the same JSON, signed with SigV4
 * at the SDK's skew-corrected time, through the SDK's own HTTP handler and retry middleware and
 * strategy; error answers are read by the SDK's own protocol. So retries, backoff, the retry
 * quota, clock-skew correction and the errors thrown (names, `$metadata`, cancellation reasons)
 * are the SDK's. It reads fields lib-dynamodb's commands keep protected (their key nodes, the
 * wrapped command's schema): an SDK update that moves them fails the whole suite, and
 * test/integration/document-client.test.ts holds it to the SDK's client where the two once differed.
 */
export class DocumentClient {
  private readonly marshallOptions: marshallOptions;
  private target?: Promise<{ url: URL; region: string }>;
  /** Shown each call (its DynamoDB operation, outcome and input): benchmarks count and time requests with it. */
  observer?: (operation: string, call: Promise<object>, input: object) => void;

  constructor(
    private readonly raw: DynamoDBClient,
    options: { marshallOptions: marshallOptions },
  ) {
    this.marshallOptions = { ...options.marshallOptions, convertTopLevelContainer: true };
  }

  async send<Command extends AnyDocumentCommand>(command: Command, options: { abortSignal?: AbortSignal } = {}): Promise<OutputOf<Command>> {
    const { input, inputKeyNodes, outputKeyNodes, clientCommand } = command as unknown as DocumentCommand;
    const [, namespace, operation, traits, inputSchema, outputSchema] = clientCommand.schema;
    const body = requestJson(convertMembers(input, inputKeyNodes, (attribute) => marshall(attribute, this.marshallOptions)));
    const context = { [SMITHY_CONTEXT_KEY]: { abortSignal: options.abortSignal } };
    const config = this.raw.config;
    const attempt = async () => {
      const signing = { config, _preRequestSystemClockOffset: config.systemClockOffset, _requestSentAt: Date.now() };
      let response: HttpResponse;
      try {
        response = await this.post(operation, body, new Date(signing._requestSentAt + config.systemClockOffset), options.abortSignal);
        if (response.statusCode >= 300) await this.throwError({ namespace, name: operation, traits, input: inputSchema, output: outputSchema }, response);
      } catch (error) {
        return clockSkew.errorHandler(signing as never)(error as Error);
      }
      clockSkew.successHandler(response as never, signing as never);
      let answer: object;
      try {
        answer = answerJson(response.body.toString("utf8"));
      } catch (error) {
        // Not JSON: an error of this answer (its status in $metadata), as the SDK's deserializer makes it.
        throw withAnswer(error as Error, response);
      }
      const output = convertMembers(answer, outputKeyNodes, (attribute) => unmarshall(attribute as never, { convertWithoutMapWrapper: true }));
      // The retry middleware counts attempts into it, as on the SDK's outputs.
      return { response, output: { ...(output as object), $metadata: { httpStatusCode: response.statusCode, requestId: response.headers["x-amzn-requestid"] } } };
    };
    const retrying = retryMiddleware(this.raw.config as never)(attempt as never, context as never);
    const call = retrying({ input, request: {} } as never).then(({ output }) => output as OutputOf<Command>);
    this.observer?.(operation, call, input);
    return call;
  }

  /** The SDK's error for an error answer. */
  private async throwError(operation: object, response: HttpResponse): Promise<never> {
    try {
      return await (this.raw.config.protocol as unknown as ErrorReader).deserializeResponse(operation, this.raw.config, response);
    } catch (error) {
      throw withAnswer(error as Error, response);
    }
  }

  /** One signed POST to DynamoDB, its whole body read. */
  private async post(operation: string, body: string, date: Date, abortSignal: AbortSignal | undefined): Promise<HttpResponse> {
    const [target, credentials] = await Promise.all([(this.target ??= this.resolveTarget().catch((error: unknown) => {
      // A failed lookup is tried again on the next call, as the SDK resolves per call.
      this.target = undefined;
      throw error;
    })), this.raw.config.credentials()]);
    const { url } = target;
    const headers = signedDynamoDbHeaders({ ...target, operation, body, credentials, date });
    const request = { protocol: url.protocol, hostname: url.hostname, port: url.port ? Number(url.port) : undefined, method: "POST", path: url.pathname, headers, body };
    const { response } = await this.raw.config.requestHandler.handle(request as never, { abortSignal });
    try {
      return { statusCode: response.statusCode, headers: response.headers, body: await readAll(response.body as NodeJS.ReadableStream) };
    } catch (error) {
      throw withAnswer(error as Error, response);
    }
  }

  /** Where the SDK would send requests (its endpoint rules) and the region it signs for, resolved once. */
  private async resolveTarget(): Promise<{ url: URL; region: string }> {
    const config = this.raw.config;
    const configured = await config.endpoint?.();
    const region = await config.region();
    const endpoint = config.endpointProvider({
      Region: region,
      UseFIPS: await config.useFipsEndpoint(),
      UseDualStack: await config.useDualstackEndpoint(),
      ...(configured ? { Endpoint: `${configured.protocol}//${configured.hostname}${configured.port ? `:${configured.port}` : ""}${configured.path}` } : {}),
    });
    return { url: endpoint.url, region };
  }
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
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
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
    ...(credentials.sessionToken ? { "x-amz-security-token": credentials.sessionToken } : {}),
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
 * (the retry strategy and clock-skew correction read its headers) and, when the error has none,
 * the answer's status as its `$metadata` (so an answer cut mid-body is not a store outage).
 */
function withAnswer(error: Error, response: { statusCode: number; headers: Record<string, string> }): Error {
  Object.defineProperty(error, "$response", { value: response, enumerable: false });
  if (!("$metadata" in error)) Object.assign(error, { $metadata: { httpStatusCode: response.statusCode, requestId: response.headers["x-amzn-requestid"] } });
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
