import * as z from "zod/mini";
import { errorCodes, securitySchemes, type ErrorCode, type RouteDefinition, type RouteRequest } from "../../shared/http/index.js";

export type OpenApiSource = { name: string; app: { routeDefinitions: readonly RouteDefinition[] } };
type JsonSchema = Record<string, unknown>;
type Schemas = Record<string, JsonSchema>;

/** The server variable naming a function's base URL: `im-callback` → `imCallbackUrl`. */
export const serverVariable = (functionName: string) => `${functionName.replace(/-(\w)/g, (_, letter: string) => letter.toUpperCase())}Url`;

const tags: Record<string, string> = {
  usersig: "Accounts, sessions and the UserSig for the IM and TRTC SDKs",
  wallet: "Gift catalog, wallets, ledger, app-initiated gifts (mode b), admin credits",
  rooms: "Room lifecycle, members, likes, co-hosts, TRTC tickets, summaries, replays",
  "im-callback": "Cloud IM third-party callbacks (gift billing in mode a, member join and exit)",
  "live-callback": "CSS, TRTC and VOD platform events",
};

const description = `Live-streaming business backend on Tencent Cloud.

**Auth.** \`Authorization: Bearer <token>\` (a session token from \`POST /v1/sessions\`, or the app's own JWT); operator routes take \`X-Admin-Key\`; platform callbacks are signed as each platform signs them.

**Errors.** Every non-2xx answer is \`{"error":{"code","message"}}\`; \`code\` is one of \`ErrorCode\`, and each operation lists the codes it can answer with. A 409 or 429 with \`Retry-After\`, and a 503, ask for the same request again after that many seconds.

**Idempotency.** Gifts and credits require an \`Idempotency-Key\`: a repeat with the same key and body gets the first answer with \`Idempotent-Replayed: true\` and bills nothing.

**Servers.** Deployed, each function has its own Function URL, so every path names its function's base URL as a server variable (\`usersigUrl\`, \`roomsUrl\`, \`walletUrl\`, ...); behind one domain they are all that domain.`;

const ErrorCodeSchema = z.enum(Object.keys(Object.assign({}, ...Object.values(errorCodes))) as [ErrorCode, ...ErrorCode[]]).check(
  z.meta({
    id: "ErrorCode",
    description: `Every error code, by the status it comes with:\n${Object.entries(errorCodes)
      .map(([status, codes]) => `- ${status}: ${Object.entries(codes).map(([code, meaning]) => `\`${code}\` (${meaning})`).join("; ")}`)
      .join("\n")}`,
  }),
);

/** The envelope every non-2xx answer carries, with every code; each operation lists its own. */
const ErrorSchema = z
  .object({
    error: z.object({
      code: ErrorCodeSchema,
      message: z.string().check(z.meta({ description: "a sentence for people; match on `code`", example: "userId: must be 1-32 letters, digits, '_' or '-'" })),
    }),
  })
  .check(z.meta({ id: "Error" }));

/** What no operation lists but any may answer: a bug (500 internal_error), in the same envelope. */
const unexpectedError = {
  description: "Anything the operation does not list: `internal_error` (500) is a bug on onair's side; the envelope is the same",
  content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
};

/** What zod writes that the document leaves out: every integer's safe-integer bounds, and each string format's regex beside its `format`. */
function plainer({ jsonSchema }: { jsonSchema: JsonSchema }) {
  if (jsonSchema.minimum === Number.MIN_SAFE_INTEGER) delete jsonSchema.minimum;
  if (jsonSchema.maximum === Number.MAX_SAFE_INTEGER) delete jsonSchema.maximum;
  if (jsonSchema.format) delete jsonSchema.pattern;
}

/**
 * The JSON Schema of a route's zod schema, as a request may send it (answers' schemas have no
 * defaults or transforms, so for them input and output read the same). zod puts the named
 * schemas inside (`.meta({ id })`) under `$defs`; they go to the document's components.
 */
function jsonSchemaOf(schema: z.core.$ZodType, schemas: Schemas): JsonSchema {
  const json = JSON.stringify(z.toJSONSchema(schema, { io: "input", override: plainer }));
  const { $schema: _, $defs, ...rest } = JSON.parse(json.replaceAll('"#/$defs/', '"#/components/schemas/')) as { $schema: string; $defs?: Schemas };
  Object.assign(schemas, $defs);
  return rest;
}

const isZod = (schema: object): schema is z.core.$ZodType => "_zod" in schema;

type Content = NonNullable<ReturnType<RouteDefinition["responses"]>[number]["content"]>;
const contentOf = (content: Content, schemas: Schemas) =>
  Object.fromEntries(Object.entries(content).map(([type, { schema, ...media }]) => [type, { ...media, schema: isZod(schema) ? jsonSchemaOf(schema, schemas) : schema }]));

/** Path, query and header parameters, one per property of the route's schemas. */
function parametersOf(request: RouteRequest | undefined, schemas: Schemas) {
  const places = [["path", request?.params], ["query", request?.query], ["header", request?.headers]] as const;
  return places.flatMap(([place, schema]) => {
    if (!schema) return [];
    const { properties = {}, required = [] } = jsonSchemaOf(schema, schemas) as { properties?: Record<string, JsonSchema>; required?: string[] };
    // `param: { required: true }`: a header the handler requires and checks itself, for its own error codes.
    return Object.entries(properties).map(([name, { param, ...property }]) => ({
      schema: property,
      required: required.includes(name) || (param as { required?: boolean } | undefined)?.required === true,
      ...(property.description ? { description: property.description } : {}),
      name,
      in: place,
    }));
  });
}

function operationOf(route: RouteDefinition, schemas: Schemas) {
  const { operationId, summary, description, security } = route;
  const request = route.request?.();
  const parameters = parametersOf(request, schemas);
  return {
    operationId,
    summary,
    ...(description ? { description } : {}),
    security,
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(request?.body ? { requestBody: { required: request.body.required, content: contentOf(request.body.content, schemas) } } : {}),
    responses: {
      ...Object.fromEntries(Object.entries(route.responses()).map(([status, { content, ...response }]) => [status, { ...response, ...(content ? { content: contentOf(content, schemas) } : {}) }])),
      default: unexpectedError,
    },
  };
}

/**
 * One OpenAPI 3.1 document for the whole API, written from each function's route definitions.
 * Deployed, each function has its own Function URL, so every path names its function's base URL
 * as a server variable (default `baseUrl`); behind one domain (docs/deploy.md) they are all that
 * domain. Each operation is tagged with its function.
 */
export function buildOpenApiDocument(sources: OpenApiSource[], baseUrl: string) {
  const schemas: Schemas = {};
  // The envelope and the list of every code, which the `default` answer of every operation names.
  jsonSchemaOf(ErrorSchema, schemas);
  const paths: Record<string, Record<string, unknown>> = {};
  for (const { name, app } of sources) {
    const variable = serverVariable(name);
    const servers = [{ url: `{${variable}}`, description: `the ${name} function's Function URL, or the one domain`, variables: { [variable]: { default: baseUrl } } }];
    for (const route of app.routeDefinitions) {
      const item = (paths[route.path] ??= { servers });
      item[route.method] = { tags: [name], ...operationOf(route, schemas) };
    }
  }
  return {
    openapi: "3.1.0",
    info: { title: "onair API", version: "1", description },
    servers: [{ url: baseUrl, description: "one domain in front of every function (docs/deploy.md), or the local stack" }],
    tags: sources.map(({ name }) => ({ name, description: tags[name] ?? name })),
    paths,
    components: { securitySchemes, schemas },
  };
}
