type OpenApiSource = { name: string; app: { getOpenAPI31Document: Function } };
type Document = { paths?: Record<string, unknown>; components?: Record<string, Record<string, unknown>> };

/** One OpenAPI 3.1 document for the whole API, merged from each function's routes. */
export function buildOpenApiDocument(sources: OpenApiSource[]) {
  const merged = {
    openapi: "3.1.0",
    info: { title: "onair API", version: "1", description: "Live-streaming business backend on Tencent Cloud. Errors: {\"error\":{\"code\",\"message\"}}." },
    paths: {} as Record<string, unknown>,
    components: {} as Record<string, Record<string, unknown>>,
  };
  for (const { app } of sources) {
    const doc = app.getOpenAPI31Document({ openapi: "3.1.0", info: merged.info }) as Document;
    Object.assign(merged.paths, doc.paths);
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
