/**
 * Bundle every function with esbuild into `dist/<name>/index.js` (CommonJS, node18: the SCF
 * runtime Nodejs18.15 loads `index.main_handler` with require) and a deployable
 * `dist/<name>.zip`, then print a size table.
 *
 *   npm run build
 */
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build, type BuildOptions } from "esbuild";
import { zipSync } from "fflate";
import { functionSpecs } from "./functions.js";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** esbuild options shared by the deploy build and the cold-start benchmark. */
export const bundleOptions = (name: string): BuildOptions => ({
  entryPoints: [join(root, "functions", name, "index.ts")],
  bundle: true,
  platform: "node",
  target: "node18",
  format: "cjs",
  minify: true,
  keepNames: true,
  legalComments: "none",
  logLevel: "warning",
});

// A package.json beside the bundle keeps it CommonJS even inside this ESM repository.
const commonJsMarker = JSON.stringify({ type: "commonjs" });

export async function buildAll(outDir = join(root, "dist")): Promise<{ name: string; bundleBytes: number; zipBytes: number }[]> {
  rmSync(outDir, { recursive: true, force: true });
  const results = await Promise.all(
    functionSpecs.map(async ({ name }) => {
      const dir = join(outDir, name);
      mkdirSync(dir, { recursive: true });
      await build({ ...bundleOptions(name), outfile: join(dir, "index.js") });
      writeFileSync(join(dir, "package.json"), commonJsMarker);
      const fixedTime = new Date("2020-01-01T00:00:00Z");
      const zip = zipSync(
        {
          "index.js": [readFileSync(join(dir, "index.js")), { mtime: fixedTime }],
          "package.json": [Buffer.from(commonJsMarker), { mtime: fixedTime }],
        },
        { level: 9 },
      );
      writeFileSync(join(outDir, `${name}.zip`), zip);
      return { name, bundleBytes: statSync(join(dir, "index.js")).size, zipBytes: zip.length };
    }),
  );
  return results;
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const results = await buildAll();
  console.log("function        bundle       zip");
  for (const { name, bundleBytes, zipBytes } of results) {
    console.log(`${name.padEnd(15)} ${kib(bundleBytes).padStart(10)} ${kib(zipBytes).padStart(10)}`);
  }
}
