/**
 * Bundle every function with esbuild into `dist/<name>/index.js` (CommonJS, node20: the SCF
 * runtime Nodejs20.19 loads `index.main_handler` with require) and a deployable
 * `dist/<name>.zip`, then print a size table.
 *
 *   npm run build
 */
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build, type BuildOptions, type Metafile, type Plugin } from "esbuild";
import { zipSync } from "fflate";
import { docsFiles } from "./docs-files.js";
import { functionSpecs } from "./functions.js";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..");

const shim = (file: string) => join(root, "scripts", "bundle-shims", file);

/**
 * Packages swapped for small stand-ins in every bundle (see each shim for why it is safe):
 * whatever a function never runs on SCF stays out of its cold start.
 */
const substitutes: { filter: RegExp; importer?: RegExp; path: string }[] = [
  { filter: /^node-fetch$/, path: shim("node-fetch.ts") },
  { filter: /^form-data$/, path: shim("form-data.ts") },
  { filter: /^\.\.\/locales\/index\.js$/, importer: /[\\/]zod[\\/]/, path: shim("zod-locales.ts") },
  { filter: /^\.\/uuid\/v4$/, importer: /[\\/]@smithy[\\/]core[\\/].*[\\/]serde[\\/]/, path: shim("smithy-uuid.ts") },
];

export const substitutePlugin: Plugin = {
  name: "onair-substitutes",
  setup(pluginBuild) {
    for (const { filter, importer, path } of substitutes) {
      pluginBuild.onResolve({ filter }, (args) => (importer && !importer.test(args.importer) ? undefined : { path }));
    }
  },
};

/**
 * Modules a function imports only when it first needs them are bundled beside it, each a file of
 * its own, instead of into index.js, which every cold start parses:
 * - the Tencent SDK's product clients (`tencentcloud-sdk-nodejs/.../<product>_client.js`, imported
 *   on the first cloud call by shared/tencent/cloud.ts and vod.ts), as `tencentcloud-<product>.js`:
 *   with their dependencies they were about a third of each bundle (97 KiB of rooms'), and most
 *   containers never make a cloud call;
 * - jose (shared/auth/jose.ts, imported on the first app JWT by shared/auth/jwt.ts), as `jose.js`:
 *   18 KiB of every HTTP bundle, which deployments on onair's own sessions never run.
 */
const sdkClient = /^tencentcloud-sdk-nodejs\/tencentcloud\/services\/([a-z]+)\/v\d+\/[a-z]+_client\.js$/;
const joseImporter = join(root, "shared", "auth", "jwt.ts");

/** Leaves each side module a function imports as a file beside it, collected in `sideFiles` (file name → the module's path). */
const sideFilesPlugin = (sideFiles: Map<string, string>): Plugin => ({
  name: "onair-side-files",
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: sdkClient }, async ({ path, resolveDir, kind, pluginData }) => {
      if (pluginData === sideFilesPlugin) return undefined; // the resolve below, finding the file
      const file = `tencentcloud-${sdkClient.exec(path)![1]!}.js`;
      sideFiles.set(file, (await pluginBuild.resolve(path, { resolveDir, kind, pluginData: sideFilesPlugin })).path);
      return { path: `./${file}`, external: true };
    });
    pluginBuild.onResolve({ filter: /^\.\/jose\.js$/ }, ({ importer, resolveDir }) => {
      if (importer !== joseImporter) return undefined;
      sideFiles.set("jose.js", join(resolveDir, "jose.ts"));
      return { path: "./jose.js", external: true };
    });
  },
});

/**
 * Hono's modules get the light `Response` and `Headers` of scripts/bundle-shims/light-response.ts
 * instead of the runtime's (undici's, whose first use loads its fetch: 30-50 ms of a cold start's
 * first answer). Only Hono's: the answers it builds go straight to the SCF adapter, while `fetch`
 * elsewhere (IM REST, jose, the SDK) keeps the real ones.
 */
const honoResponsePlugin: Plugin = {
  name: "onair-hono-light-response",
  setup(pluginBuild) {
    pluginBuild.onLoad({ filter: /[\\/]node_modules[\\/]hono[\\/]dist[\\/].*\.js$/ }, ({ path }) => ({
      contents: `import { LightResponse as Response, LightHeaders as Headers } from ${JSON.stringify(shim("light-response.ts"))};\n${readFileSync(path, "utf8")}`,
      loader: "js",
      resolveDir: dirname(path),
    }));
  },
};

/**
 * Packages no bundle may contain: the shims above replace some; the AWS SDK's client and what it
 * brings (credential chain, endpoint rules, schemas, user agent) stays out because functions talk
 * to DynamoDB through shared/db/document.ts. Their return would mean a cold start paying for
 * code that never runs. Read from the build's metafile by a test.
 */
export const deniedPackages = [
  "@aws-sdk/client-dynamodb",
  "@aws-sdk/lib-dynamodb",
  "@aws-sdk/core",
  "@smithy/signature-v4",
  "@aws-sdk/credential-provider-node",
  "@aws-sdk/nested-clients",
  "@aws-sdk/credential-provider-ini",
  "@aws-sdk/credential-provider-sso",
  "node-fetch",
  "form-data",
  "mime-db",
  "tr46",
  "bowser",
  "@aws-sdk/middleware-endpoint-discovery",
  "@aws-sdk/endpoint-cache",
  "mnemonist",
  "@aws/lambda-invoke-store",
  "@hono/zod-openapi",
  "@asteasolutions/zod-to-openapi",
];

/**
 * Parts of a package no bundle may contain, by path. Routes and config are checked with zod/mini:
 * zod classic came to 188 KiB of every bundle. The OpenAPI document is written at build time, so
 * zod's JSON Schema generator has no business in a function either, nor the AWS SDK's event-stream
 * codec (15 KiB; DynamoDB streams no events).
 */
export const deniedModules = [/node_modules\/@smithy\/core\/dist-es\/submodules\/event-streams\//, /node_modules\/zod\/v4\/classic\//, /node_modules\/zod\/v4\/core\/(to-json-schema|json-schema-processors|json-schema-generator)\.js$/];

/**
 * Bundle size budgets in bytes (minified index.js, what a cold start loads). The build fails past
 * them. They hold today's sizes with a little room: usersig 134 kB, rooms 202 kB (the largest,
 * with its 19 routes' OpenAPI examples and error codes), the others 125-193 kB. The side files
 * beside a bundle (SDK clients, jose) load on first use, so they are not counted.
 */
export const bundleBudgetBytes: Record<string, number> = { usersig: 140_000, rooms: 210_000, default: 200_000 };

/**
 * esbuild options shared by the deploy build and the cold-start benchmark. The side modules the
 * function imports are left as files beside it, and named in `sideFiles` (see `sideFilesPlugin`).
 */
export const bundleOptions = (name: string, sideFiles = new Map<string, string>()): BuildOptions => ({
  ...commonOptions,
  entryPoints: [join(root, "functions", name, "index.ts")],
  plugins: [substitutePlugin, sideFilesPlugin(sideFiles), honoResponsePlugin],
});

/** A side module as a CommonJS file of its own, to sit beside a function's bundle. */
const sideFileOptions = (module: string): BuildOptions => ({
  ...commonOptions,
  entryPoints: [module],
  plugins: [substitutePlugin],
});

const commonOptions: BuildOptions = {
  bundle: true,
  platform: "node",
  // The ES module builds first: the AWS SDK's CommonJS builds are one file per package, so all of
  // @smithy/core came along for its retry strategy; from its ES modules esbuild keeps what is used.
  mainFields: ["module", "main"],
  target: "node20",
  format: "cjs",
  // Without keepNames: errors are told apart by their literal `name`, never a class's, and
  // keeping names cost a defineProperty for every function created, at load and per request.
  minify: true,
  legalComments: "none",
  logLevel: "warning",
  metafile: true,
  // `import()` of a file beside the bundle becomes `require`: the side files are CommonJS, and
  // Node's ES module loader would be one more thing to start on their first use.
  supported: { "dynamic-import": false },
};

/** Bytes each npm package (or `(onair)` for this repository) adds to a bundle, largest first. */
export function packageSizes(metafile: Metafile): [string, number][] {
  const bytes = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [file, input] of Object.entries(output.inputs)) {
      const inner = file.slice(file.lastIndexOf("node_modules/"));
      const name = file.includes("node_modules/") ? /^node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(inner)![1]! : "(onair)";
      bytes.set(name, (bytes.get(name) ?? 0) + input.bytesInOutput);
    }
  }
  return [...bytes].sort((a, b) => b[1] - a[1]);
}

/** esbuild metafiles of the last build, one per function (read by the bundle-contents test). */
export const metaDir = join(root, ".build", "meta");

// A package.json beside the bundle keeps it CommonJS even inside this ESM repository.
const commonJsMarker = JSON.stringify({ type: "commonjs" });

export interface BuiltFunction {
  name: string;
  /** index.js, what a cold start loads. */
  bundleBytes: number;
  /** The side files beside it (SDK clients, jose), each loaded on its first use. */
  sideBytes: number;
  zipBytes: number;
  /** npm packages by bytes in the bundle, largest first. */
  packages: [string, number][];
}

export async function buildAll(outDir = join(root, "dist")): Promise<BuiltFunction[]> {
  rmSync(outDir, { recursive: true, force: true });
  const results = await Promise.all(
    functionSpecs.map(async ({ name }) => {
      const dir = join(outDir, name);
      mkdirSync(dir, { recursive: true });
      const sideModules = new Map<string, string>();
      const { metafile } = await build({ ...bundleOptions(name, sideModules), outfile: join(dir, "index.js") });
      const sideFiles: Record<string, Buffer> = {};
      const sideMetafiles: Metafile[] = [];
      // Only the side files the bundle still requires: an import in code the bundle dropped resolved too.
      const [, bundle] = Object.entries(metafile!.outputs).find(([file]) => resolve(file) === join(dir, "index.js"))!;
      const required = new Set(bundle.imports.map((entry) => entry.path));
      for (const [file, module] of sideModules) {
        if (!required.has(`./${file}`)) continue;
        sideMetafiles.push((await build({ ...sideFileOptions(module), outfile: join(dir, file) })).metafile!);
        sideFiles[file] = readFileSync(join(dir, file));
      }
      // Beside dist, not in it: dist is what gets deployed. One metafile for all the function's
      // files, so the bundle-contents test checks what is loaded later too.
      mkdirSync(metaDir, { recursive: true });
      writeFileSync(join(metaDir, `${name}.json`), JSON.stringify(mergeMetafiles([metafile!, ...sideMetafiles])));
      writeFileSync(join(dir, "package.json"), commonJsMarker);
      const extras = name === "usersig" ? docsFiles() : {};
      for (const [file, content] of Object.entries(extras)) {
        mkdirSync(dirname(join(dir, file)), { recursive: true });
        writeFileSync(join(dir, file), content);
      }
      const fixedTime = new Date("2020-01-01T00:00:00Z");
      const zip = zipSync(
        {
          "index.js": [readFileSync(join(dir, "index.js")), { mtime: fixedTime }],
          "package.json": [Buffer.from(commonJsMarker), { mtime: fixedTime }],
          ...Object.fromEntries(Object.entries({ ...sideFiles, ...extras }).map(([file, content]) => [file, [Buffer.from(content), { mtime: fixedTime }]])),
        },
        { level: 9 },
      );
      writeFileSync(join(outDir, `${name}.zip`), zip);
      return {
        name,
        bundleBytes: statSync(join(dir, "index.js")).size,
        sideBytes: Object.values(sideFiles).reduce((sum, content) => sum + content.length, 0),
        zipBytes: zip.length,
        packages: packageSizes(metafile!),
      };
    }),
  );
  return results;
}

/** One metafile holding every input and output of `metafiles`. */
const mergeMetafiles = (metafiles: Metafile[]): Metafile => ({
  inputs: Object.assign({}, ...metafiles.map((metafile) => metafile.inputs)),
  outputs: Object.assign({}, ...metafiles.map((metafile) => metafile.outputs)),
});

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const results = await buildAll();
  console.log("function            bundle    budget       zip   side files   largest packages in the bundle");
  const overBudget: string[] = [];
  for (const { name, bundleBytes, sideBytes, zipBytes, packages } of results) {
    const budget = bundleBudgetBytes[name] ?? bundleBudgetBytes.default!;
    if (bundleBytes > budget) overBudget.push(`${name} is ${kib(bundleBytes)}, over its budget of ${kib(budget)}`);
    const top = packages.slice(0, 4).map(([pkg, bytes]) => `${pkg} ${kib(bytes)}`).join(", ");
    console.log(`${name.padEnd(15)} ${kib(bundleBytes).padStart(10)} ${kib(budget).padStart(9)} ${kib(zipBytes).padStart(9)} ${(sideBytes ? kib(sideBytes) : "none").padStart(12)}   ${top}`);
  }
  if (overBudget.length > 0) {
    console.error(`bundle budget exceeded (scripts/build.ts bundleBudgetBytes): ${overBudget.join("; ")}`);
    process.exit(1);
  }
}
