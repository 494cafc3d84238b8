import { Hono, type Context, type Handler, type MiddlewareHandler, type Next } from "hono";
import { HTTPException } from "hono/http-exception";
import { validator } from "hono/validator";
import type * as z from "zod/mini";
import type { Logger } from "../log/index.js";
import { lazy } from "../lazy/index.js";
import { validate } from "../validation/index.js";
import type { RequestBindings } from "./adapter.js";
import { describeIssues, errorResponse } from "./envelope.js";

export type AppEnv = {
  Bindings: RequestBindings;
  Variables: { log: Logger; userId: string };
};

type Schema = z.core.$ZodType;
/** A plain JSON Schema: a body the handler checks itself (after a signature), documented only. */
type JsonSchema = { type: string; [keyword: string]: unknown };
type Header = { description: string; schema: { type: "string" | "integer"; [keyword: string]: unknown } };

export interface MediaType {
  schema: Schema | JsonSchema;
  example?: unknown;
  examples?: Record<string, { value: unknown }>;
}

export interface ResponseDefinition {
  description: string;
  headers?: Record<string, Header>;
  content?: { "application/json": MediaType };
}

/** What a request must hold; a zod schema per part. */
export interface RouteRequest {
  params?: z.ZodMiniObject;
  query?: z.ZodMiniObject;
  /** Keys lower-case, as the request's header names arrive. */
  headers?: z.ZodMiniObject;
  /** A zod schema is checked before the handler runs; a JSON Schema only documents. */
  body?: { required: true; content: { "application/json": MediaType } };
}

/**
 * A route and its OpenAPI operation in one: `app.openapi(route, handler)` serves it with its
 * request checked, and scripts/local/openapi.ts writes the document from the same object.
 *
 * `request` and `responses` are functions, so a cold start builds no schema: a route's request
 * schemas are built on its first request, its answers' only when the document is written (no
 * function checks its own answers). Building every route's zod schemas was most of what a
 * function's load ran (README "What goes into a bundle").
 */
export interface RouteDefinition {
  method: "get" | "post" | "put" | "patch" | "delete";
  /** OpenAPI style: `/v1/rooms/{roomId}`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  security: readonly Record<string, readonly string[]>[];
  request?: () => RouteRequest;
  responses: () => Record<number, ResponseDefinition>;
  /** Run before the request is checked: authentication answers first. */
  middleware?: MiddlewareHandler<AppEnv>[];
}

/** The route as written, typed for `app.openapi`. */
export const createRoute = <R extends RouteDefinition>(route: R): R => route;

type Validated<S, Target extends string> = S extends Schema ? { [K in Target]: z.output<S> } : {};
type Request<R> = R extends { request: () => infer Q } ? Q : unknown;
type Field<T, K extends string> = T extends { [P in K]: infer V } ? V : undefined;
type BodySchema<R> = Field<Field<Field<Field<Request<R>, "body">, "content">, "application/json">, "schema">;

/** What `c.req.valid(target)` returns in a route's handler. */
export type RouteInput<R> = {
  out: Validated<Field<Request<R>, "params">, "param"> &
    Validated<Field<Request<R>, "query">, "query"> &
    Validated<Field<Request<R>, "headers">, "header"> &
    Validated<BodySchema<R>, "json">;
};

const isSchema = (schema: Schema | JsonSchema): schema is Schema => "_zod" in schema;

/** The codes of a refused request by where the problem is. */
const invalidCode = { param: "invalid_parameter", query: "invalid_parameter", header: "invalid_header", json: "invalid_request" } as const;

/** Hono's validator with a zod/mini schema: the parsed value for `c.req.valid`, or a 400 in the envelope. */
const check = (target: keyof typeof invalidCode, schema: Schema) =>
  validator(target, (value, c: Context) => {
    const result = validate(schema, value);
    return result.success ? (result.data as object) : errorResponse(c, 400, invalidCode[target], describeIssues(result.error.issues));
  });

// A JSON media type, parameters allowed (`application/json; charset=utf-8`).
const jsonContentType = /^application\/([a-z-.]+\+)?json(;\s*[a-zA-Z0-9-]+=([^;]+))*$/i;

/** A body that is not JSON gets 415, whether it names another type or none. */
const requireJson: MiddlewareHandler = async (c, next) => {
  const contentType = c.req.header("content-type");
  const refused = contentType ? !jsonContentType.test(contentType) : c.req.raw.body !== null && (await c.req.arrayBuffer()).byteLength > 0;
  if (refused) throw new HTTPException(415, { message: "Unsupported Media Type" });
  await next();
};

/** A Hono app whose routes carry their OpenAPI definitions. */
export class OpenApiApp extends Hono<AppEnv> {
  /** Every route served through `openapi`, in order: the OpenAPI document is written from them. */
  readonly routeDefinitions: RouteDefinition[] = [];

  /**
   * Serve `route`: its middleware, then its query, path parameters, headers and JSON body checked
   * (400 `invalid_parameter`, `invalid_header`, `invalid_request` naming the fields), then `handler`.
   */
  openapi<R extends RouteDefinition>(route: R, handler: Handler<AppEnv, string, RouteInput<R>>): this {
    this.routeDefinitions.push(route);
    const checks = route.request && lazy(() => checksOf(route.request!()));
    const handlers: MiddlewareHandler[] = [...(route.middleware ?? []), ...(checks ? [(c: Context, next: Next) => runInTurn(checks(), c, next)] : [])];
    this.on([route.method.toUpperCase()], [route.path.replaceAll(/\/{(.+?)}/g, "/:$1")], ...handlers, handler as Handler);
    return this;
  }
}

/** The checks of a request, in the order they answer: query, path parameters, headers, then the JSON body. */
function checksOf({ params, query, headers, body }: RouteRequest): MiddlewareHandler[] {
  const bodySchema = body?.content["application/json"].schema;
  return [
    ...(query ? [check("query", query)] : []),
    ...(params ? [check("param", params)] : []),
    ...(headers ? [check("header", headers)] : []),
    ...(bodySchema && isSchema(bodySchema) ? [requireJson, check("json", bodySchema)] : []),
  ];
}

/**
 * `handlers` as one middleware: each runs when the one before calls `next`, and one that answers
 * (a refused request) stops the rest. What the route's own `next` returns is not an answer.
 */
const runInTurn = (handlers: MiddlewareHandler[], c: Context, next: Next): Promise<Response | void> => {
  const run = async (index: number): Promise<Response | void> => {
    if (index === handlers.length) return void (await next());
    const answer = await handlers[index]!(c, () => run(index + 1) as Promise<void>);
    // As Hono's own chain does with a middleware's answer: requireJson answers by its next's.
    if (answer) c.res = answer;
    return answer;
  };
  return run(0);
};
