import { join } from "node:path";
import type { Hono } from "hono";

/**
 * The API docs page: Swagger UI (swagger-ui-dist, from npm) rendering `/openapi.json`. Its
 * files are served from beside the page, never from a CDN, and read only when asked for, so a
 * function that serves them pays nothing for them at cold start.
 */
export const docsAssets = {
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
  "swagger-ui.css": "text/css; charset=utf-8",
} as const;
export type DocsAsset = keyof typeof docsAssets;

export interface DocsSource {
  asset(name: DocsAsset): Promise<Uint8Array | string>;
  /** The OpenAPI document as built. */
  document(): Promise<DocsDocument>;
}

export type DocsDocument = { servers?: { url: string }[]; paths?: Record<string, { servers?: { variables?: Record<string, { default: string }> }[] }> };

/**
 * Files in a folder: `docs/` beside a deployed bundle (written by the build). `node:fs/promises`
 * loads on the first read (about 2 ms of a cold start otherwise, for a page most never serve).
 */
export function folderDocsSource(dir: string, documentFile = join(dir, "openapi.json")): DocsSource {
  const files = () => import("node:fs/promises");
  return {
    asset: async (name) => (await files()).readFile(join(dir, name)),
    document: async () => JSON.parse(await (await files()).readFile(documentFile, "utf8")) as DocsDocument,
  };
}

/** The document with `baseUrl` as its server and every function's default URL: "try it" calls where the page came from. */
export function withBaseUrl<T extends DocsDocument>(document: T, baseUrl: string): T {
  const copy = structuredClone(document);
  for (const server of copy.servers ?? []) server.url = baseUrl;
  for (const item of Object.values(copy.paths ?? {})) {
    for (const server of item.servers ?? []) for (const variable of Object.values(server.variables ?? {})) variable.default = baseUrl;
  }
  return copy;
}

const page = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>onair API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
<div id="docs"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script>
// validatorUrl: null keeps the page from calling the public validator: it works offline.
SwaggerUIBundle({ url: "/openapi.json", dom_id: "#docs", deepLinking: true, docExpansion: "list", defaultModelsExpandDepth: 0, displayOperationId: true, validatorUrl: null });
</script>
</body>
</html>
`;

/** GET `/docs`, its two files and `/openapi.json` on `app`. */
export function serveDocs(app: Hono<any>, source: DocsSource): void {
  app.get("/docs", (c) => c.html(page));
  // One route per file: any other `/docs/...` is no route (404).
  for (const [name, contentType] of Object.entries(docsAssets)) {
    app.get(`/docs/${name}`, async (c) => {
      const body = await source.asset(name as DocsAsset);
      return c.body(typeof body === "string" ? body : new Uint8Array(body), 200, { "content-type": contentType, "cache-control": "public, max-age=3600" });
    });
  }
  app.get("/openapi.json", async (c) => c.json(withBaseUrl(await source.document(), new URL(c.req.url).origin)));
}
