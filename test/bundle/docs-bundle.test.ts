import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { root } from "../../scripts/build.js";

/** GET each path from a fresh process that loads dist/usersig as SCF would, with DOCS_ENABLED as given. */
async function getFromBundle(docsEnabled: string | undefined, paths: string[]) {
  const script = `
    const { main_handler } = require(${JSON.stringify(join(root, "dist", "usersig", "index.js"))});
    (async () => {
      const out = [];
      for (const path of ${JSON.stringify(paths)}) {
        const r = await main_handler({ httpMethod: "GET", path, headers: { host: "1250000000-x.ap-guangzhou.tencentscf.com" }, queryString: {} }, { request_id: "docs" });
        out.push({ path, status: r.statusCode, type: r.headers["content-type"], bytes: r.body.length, body: r.body.slice(0, 2000) });
      }
      console.log("ANSWERS " + JSON.stringify(out));
    })();`;
  const env = { ...process.env, DOCS_ENABLED: docsEnabled };
  if (docsEnabled === undefined) delete env.DOCS_ENABLED;
  const { stdout } = await promisify(execFile)(process.execPath, ["-e", script], { env, cwd: "/" });
  // The bundle logs too (a cold-start check of reserved accounts): take the answers' own line.
  const answers = stdout.split("\n").find((line) => line.startsWith("ANSWERS "))!;
  return JSON.parse(answers.slice("ANSWERS ".length)) as { path: string; status: number; type: string; bytes: number; body: string }[];
}

describe("the docs in the deployed usersig function", () => {
  it("serves /docs, Swagger UI's files from beside the bundle and the whole API's document when DOCS_ENABLED=true", async () => {
    const [page, script, css, document] = await getFromBundle("true", ["/docs", "/docs/swagger-ui-bundle.js", "/docs/swagger-ui.css", "/openapi.json"]);
    expect(page).toMatchObject({ status: 200, type: expect.stringContaining("text/html") });
    expect(page!.body).toContain("/docs/swagger-ui-bundle.js");
    expect(script).toMatchObject({ status: 200, type: expect.stringContaining("javascript") });
    expect(script!.bytes).toBeGreaterThan(500_000);
    expect(css).toMatchObject({ status: 200, type: expect.stringContaining("text/css") });
    expect(document).toMatchObject({ status: 200 });
    // Every function's routes, with the function's own URL as the server.
    expect(document!.body).toContain('"servers":[{"url":"https://1250000000-x.ap-guangzhou.tencentscf.com"');
  }, 30_000);

  it("answers 404 route_not_found, not a 405 offering GET, for a file the docs do not have", async () => {
    const answers = await getFromBundle("true", ["/docs/nope", "/docs/", "/docs/swagger-ui.css/"]);
    expect(answers.map((answer) => [answer.status, JSON.parse(answer.body).error.code])).toEqual(Array(3).fill([404, "route_not_found"]));
  }, 30_000);

  it("answers 404 for all of it when the switch is off, its default", async () => {
    const answers = await getFromBundle(undefined, ["/docs", "/docs/swagger-ui-bundle.js", "/openapi.json"]);
    expect(answers.map((answer) => answer.status)).toEqual([404, 404, 404]);
  }, 30_000);
});
