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
      const operations = Object.entries(item as Record<string, object>).map(([method, operation]) => [method, { tags: [name], ...operation }]);
      merged.paths[path] = { servers, ...Object.fromEntries(operations) };
    }
    for (const [kind, entries] of Object.entries(doc.components ?? {})) {
      merged.components[kind] = { ...merged.components[kind], ...entries };
    }
  }
  return merged;
}

/** A dependency-free page that lists the operations of /openapi.json. */
export function docsPage(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>onair API</title>
<style>body{font:15px system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}
code{background:#f3f3f3;padding:0 .3em}.op{margin:.6rem 0}.m{display:inline-block;width:4.5rem;font-weight:600}
pre{background:#f7f7f7;padding:.5rem;overflow:auto;font-size:12px}</style></head>
<body><h1>onair API</h1><p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1).</p><div id="ops"></div>
<script>
fetch('/openapi.json').then(r=>r.json()).then(doc=>{
  const out=document.getElementById('ops');
  for(const [path,ops] of Object.entries(doc.paths)) for(const [method,op] of Object.entries(ops)){
    const d=document.createElement('details');d.className='op';
    const s=document.createElement('summary');s.innerHTML='<span class="m">'+method.toUpperCase()+'</span><code></code> ';
    s.querySelector('code').textContent=path;s.append(op.summary||'');d.append(s);
    const pre=document.createElement('pre');pre.textContent=JSON.stringify({request:op.requestBody,responses:op.responses},null,2);d.append(pre);out.append(d);
  }
});
</script></body></html>`;
}
