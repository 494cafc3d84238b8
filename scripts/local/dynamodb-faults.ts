import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { freePort } from "./dynamodb-local.js";
import { readBody } from "../emulator/server.js";

/**
 * A fault-injecting HTTP proxy in front of DynamoDB Local, so the local stack fails the way
 * DynamoDB does in production. Each request draws once against the configured rates:
 *
 * - `throttle`: not forwarded; 400 `ProvisionedThroughputExceededException` (a transaction gets
 *   `ThrottlingException`), as DynamoDB answers a request over its capacity.
 * - `conflict`: writes only; not forwarded. A `TransactWriteItems` gets 400
 *   `TransactionCanceledException` with a `TransactionConflict` reason, as DynamoDB cancels a
 *   transaction on a hot item; a `PutItem`, `UpdateItem` or `DeleteItem` gets 400
 *   `TransactionConflictException`, as DynamoDB refuses a write to an item a transaction holds.
 * - `lost`: forwarded (the write commits), then answered 500 `InternalServerError`.
 * - `cut`: forwarded (the write commits), then the connection is destroyed without an answer.
 *
 * `operations` limits faults to some DynamoDB operations (`TransactWriteItems`, `UpdateItem`…);
 * `match` limits them to requests whose body contains one of the strings (a test's own keys);
 * `sequence` gives the next matching requests their faults in order (`none` lets one through,
 * `slow` forwards one after `slowMs` (default 2.5 s) and answers it normally, as a latency spike), before the
 * rates apply again: a test forces an exact interleaving with it.
 */
export interface DynamoDbFaults {
  throttle: number;
  lost: number;
  cut: number;
  conflict: number;
  operations?: string[];
  match?: string[];
  sequence?: (FaultKind | "none" | "slow")[];
  slowMs?: number;
}

/** How late a `slow` request is forwarded unless told: past IM's 2 s for a callback that waits on it. */
const defaultSlowMs = 2_500;

export const noFaults: DynamoDbFaults = { throttle: 0, lost: 0, cut: 0, conflict: 0 };
const rateNames = ["throttle", "lost", "cut", "conflict"] as const;
type FaultKind = (typeof rateNames)[number];
/** The operations DynamoDB can refuse with a transaction conflict. */
const conflictable = new Set(["TransactWriteItems", "PutItem", "UpdateItem", "DeleteItem"]);

/**
 * Parse `DYNAMODB_FAULTS`: `throttle=0.2,lost=0.12,cut=0.08,conflict=0.1,ops=TransactWriteItems+UpdateItem`.
 * An empty value or `off` is the proxy with no faults (switch them on later through the control API).
 * @example parseFaults("throttle=0.2") // { throttle: 0.2, lost: 0, cut: 0, conflict: 0 }
 */
export function parseFaults(text: string): DynamoDbFaults {
  const faults: DynamoDbFaults = { ...noFaults };
  if (text.trim() === "" || text.trim() === "off") return faults;
  for (const part of text.split(",")) {
    const [name, value = ""] = part.split("=").map((s) => s.trim());
    if (name === "ops") {
      faults.operations = value.split("+").filter(Boolean);
      continue;
    }
    if (!rateNames.includes(name as FaultKind)) throw new Error(`DYNAMODB_FAULTS: unknown fault "${name}" (throttle, lost, cut, conflict, ops)`);
    const rate = Number(value);
    if (!(rate >= 0 && rate <= 1)) throw new Error(`DYNAMODB_FAULTS: ${name} must be a rate between 0 and 1, got "${value}"`);
    faults[name as FaultKind] = rate;
  }
  return checkFaults(faults);
}

/** Validate a fault set from the control API; throws a message naming the bad field. */
export function checkFaults(input: unknown): DynamoDbFaults {
  if (typeof input !== "object" || input === null || Array.isArray(input)) throw new Error("faults must be a JSON object");
  const body = input as Record<string, unknown>;
  const unknown = Object.keys(body).filter((key) => ![...rateNames, "operations", "match", "sequence", "slowMs"].includes(key));
  if (unknown.length > 0) throw new Error(`unknown field ${unknown[0]}`);
  const faults: DynamoDbFaults = { ...noFaults };
  for (const name of rateNames) {
    const rate = body[name] ?? 0;
    if (typeof rate !== "number" || !(rate >= 0 && rate <= 1)) throw new Error(`${name} must be a rate between 0 and 1`);
    faults[name] = rate;
  }
  if (faults.throttle + faults.lost + faults.cut + faults.conflict > 1) throw new Error("the rates must add up to at most 1");
  for (const list of ["operations", "match"] as const) {
    const value = body[list];
    if (value === undefined) continue;
    if (!Array.isArray(value) || !value.every((item) => typeof item === "string" && item.length > 0)) throw new Error(`${list} must be a list of strings`);
    faults[list] = value as string[];
  }
  if (body.sequence !== undefined) {
    const sequence = body.sequence;
    if (!Array.isArray(sequence) || !sequence.every((kind) => kind === "none" || kind === "slow" || rateNames.includes(kind))) throw new Error(`sequence must be a list of ${rateNames.join(", ")}, slow or none`);
    faults.sequence = [...sequence];
  }
  if (body.slowMs !== undefined) {
    if (typeof body.slowMs !== "number" || !Number.isInteger(body.slowMs) || body.slowMs < 0 || body.slowMs > 30_000) throw new Error("slowMs must be a whole number of milliseconds up to 30000");
    faults.slowMs = body.slowMs;
  }
  return faults;
}

export interface FaultProxy {
  endpoint: string;
  faults(): DynamoDbFaults;
  setFaults(faults: DynamoDbFaults): void;
  /** Faults injected since start, by kind. */
  injected(): Record<FaultKind | "slow", number>;
  stop(): Promise<void>;
}

const amzError = (type: string, message: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, message, ...extra });


/** Start the proxy on a free loopback port, forwarding to `target` (DynamoDB Local's endpoint). */
export async function startFaultProxy(target: string, initial: DynamoDbFaults = noFaults): Promise<FaultProxy> {
  let faults = initial;
  const injected: Record<FaultKind | "slow", number> = { throttle: 0, lost: 0, cut: 0, conflict: 0, slow: 0 };
  const upstream = new URL(target);

  const forward = (request: IncomingMessage, body: Buffer) =>
    new Promise<{ status: number; headers: IncomingMessage["headers"]; body: Buffer }>((resolve, reject) => {
      const outgoing = httpRequest(
        { host: upstream.hostname, port: upstream.port, method: request.method, path: request.url, headers: { ...request.headers, host: upstream.host } },
        async (response) => resolve({ status: response.statusCode ?? 502, headers: response.headers, body: await readBody(response) }),
      );
      outgoing.on("error", reject);
      outgoing.end(body);
    });

  const draw = (operation: string, body: Buffer): FaultKind | "slow" | undefined => {
    if (faults.operations && !faults.operations.includes(operation)) return undefined;
    if (faults.match && !faults.match.some((text) => body.includes(text))) return undefined;
    const next = faults.sequence?.shift();
    if (next !== undefined) return next === "none" || (next === "conflict" && !conflictable.has(operation)) ? undefined : next;
    let roll = Math.random();
    for (const kind of rateNames) {
      if (kind === "conflict" && !conflictable.has(operation)) continue;
      if (roll < faults[kind]) return kind;
      roll -= faults[kind];
    }
    return undefined;
  };

  const reply = (response: ServerResponse, status: number, body: string | Buffer, headers: Record<string, string> = { "content-type": "application/x-amz-json-1.0" }) => {
    response.writeHead(status, headers);
    response.end(body);
  };

  const server: Server = createServer(async (request, response) => {
    try {
      const body = await readBody(request);
      const operation = String(request.headers["x-amz-target"] ?? "").split(".")[1] ?? "";
      const fault = draw(operation, body);
      if (fault) injected[fault]++;
      if (fault === "throttle") {
        const type = operation.startsWith("Transact") ? "ThrottlingException" : "ProvisionedThroughputExceededException";
        return reply(response, 400, amzError(type, "The level of configured provisioned throughput for the table was exceeded (injected)"));
      }
      if (fault === "conflict" && operation !== "TransactWriteItems") {
        return reply(response, 400, amzError("TransactionConflictException", "Operation was rejected because there is an ongoing transaction for the item."));
      }
      if (fault === "conflict") {
        const items = (JSON.parse(body.toString("utf8")) as { TransactItems?: unknown[] }).TransactItems ?? [];
        const hot = Math.floor(Math.random() * Math.max(1, items.length));
        const reasons = items.map((_, index) => (index === hot ? { Code: "TransactionConflict", Message: "Transaction is ongoing for the item" } : { Code: "None" }));
        const codes = reasons.map((reason) => reason.Code).join(", ");
        return reply(response, 400, amzError("TransactionCanceledException", `Transaction cancelled, please refer cancellation reasons for specific reasons [${codes}]`, { CancellationReasons: reasons }));
      }
      if (fault === "slow") await new Promise((resolve) => setTimeout(resolve, faults.slowMs ?? defaultSlowMs));
      const answer = await forward(request, body);
      if (fault === "lost") return reply(response, 500, amzError("InternalServerError", "Internal server error (injected after the request was applied)"));
      if (fault === "cut") return void request.socket.destroy();
      const headers = Object.fromEntries(Object.entries(answer.headers).flatMap(([name, value]) => (value === undefined || name === "transfer-encoding" ? [] : [[name, String(value)]])));
      reply(response, answer.status, answer.body, headers);
    } catch (error) {
      reply(response, 502, amzError("InternalServerError", `fault proxy could not reach DynamoDB Local: ${(error as Error).message}`));
    }
  });
  const port = await freePort();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    faults: () => faults,
    setFaults: (next) => void (faults = next),
    injected: () => ({ ...injected }),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
