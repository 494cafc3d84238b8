type OpenApiSource = { name: string; app: { getOpenAPI31Document: Function } };
type Document = { paths?: Record<string, unknown>; components?: Record<string, Record<string, unknown>> };

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

/** What no operation lists but any may answer: a bug (500 internal_error), in the same envelope. */
const unexpectedError = {
  description: "Anything the operation does not list: `internal_error` (500) is a bug on onair's side; the envelope is the same",
  content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
};

/**
 * One OpenAPI 3.1 document for the whole API, merged from each function's routes. Deployed, each
 * function has its own Function URL, so every path names its function's base URL as a server
 * variable (default `baseUrl`); behind one domain (docs/deploy.md) they are all that domain.
 * Each operation is tagged with its function.
 */
export function buildOpenApiDocument(sources: OpenApiSource[], baseUrl: string) {
  const merged = {
    openapi: "3.1.0",
    info: { title: "onair API", version: "1", description },
    servers: [{ url: baseUrl, description: "one domain in front of every function (docs/deploy.md), or the local stack" }],
    tags: sources.map(({ name }) => ({ name, description: tags[name] ?? name })),
    paths: {} as Record<string, unknown>,
    components: {} as Record<string, Record<string, unknown>>,
  };
  for (const { name, app } of sources) {
    const doc = app.getOpenAPI31Document({ openapi: "3.1.0", info: merged.info }) as Document;
    const variable = serverVariable(name);
    const servers = [{ url: `{${variable}}`, description: `the ${name} function's Function URL, or the one domain`, variables: { [variable]: { default: baseUrl } } }];
    for (const [path, item] of Object.entries(doc.paths ?? {})) {
      const operations = Object.entries(item as Record<string, { responses: object }>).map(([method, operation]) => [
        method,
        { tags: [name], ...operation, responses: { ...operation.responses, default: unexpectedError } },
      ]);
      merged.paths[path] = { servers, ...Object.fromEntries(operations) };
    }
    for (const [kind, entries] of Object.entries(doc.components ?? {})) {
      merged.components[kind] = { ...merged.components[kind], ...entries };
    }
  }
  return merged;
}
