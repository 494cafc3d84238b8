export { createOnairClient, unwrap, type CallOptions, type IdempotentCallOptions, type OnairClient, type OnairClientOptions } from "./client.js";
export { OnairError, OnairTimeoutError, type ErrorCode } from "./errors.js";
export type { FunctionName, RetryOptions, TransportOptions } from "./fetch.js";
export type { components, operations, paths } from "./generated/schema.js";
