import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Metafile } from "esbuild";
import { describe, expect, it } from "vitest";
import { deniedModules, deniedPackages, metaDir, packageSizes } from "../../scripts/build.js";
import { functionSpecs } from "../../scripts/functions.js";

// `npm test` builds before it tests; the build keeps each bundle's metafile.
const metafile = (name: string) => JSON.parse(readFileSync(join(metaDir, `${name}.json`), "utf8")) as Metafile;
/** What index.js, the file a cold start loads, holds. */
const inputs = (name: string) => Object.keys(metafile(name).outputs[`dist/${name}/index.js`]!.inputs);

describe.each(functionSpecs.map((spec) => spec.name))("the %s bundle", (name) => {
  it("contains no package on the deny-list", () => {
    const packages = packageSizes(metafile(name)).map(([pkg]) => pkg);
    expect(packages.length).toBeGreaterThan(5);
    expect(packages.filter((pkg) => deniedPackages.includes(pkg))).toEqual([]);
  });

  const sideFiles = () => Object.keys(metafile(name).outputs).filter((file) => file !== `dist/${name}/index.js`);

  it("leaves the Tencent SDK out of index.js: its clients are files beside it, required on the first cloud call", () => {
    expect(inputs(name).filter((file) => file.includes("node_modules/tencentcloud-sdk-nodejs/"))).toEqual([]);
    const sdkFiles = sideFiles().filter((file) => file !== `dist/${name}/jose.js`);
    for (const file of sdkFiles) expect(file).toMatch(new RegExp(`^dist/${name}/tencentcloud-(trtc|live|vod)\\.js$`));
    expect(sdkFiles.length > 0).toBe(name !== "usersig");
  });

  it("leaves jose out of index.js: a function that verifies app JWTs has it in jose.js beside it, required on the first JWT", () => {
    expect(inputs(name).filter((file) => file.includes("node_modules/jose/"))).toEqual([]);
    const verifiesJwts = ["usersig", "rooms", "wallet"].includes(name);
    expect(sideFiles().includes(`dist/${name}/jose.js`)).toBe(verifiesJwts);
    if (verifiesJwts) expect(Object.keys(metafile(name).outputs[`dist/${name}/jose.js`]!.inputs).some((file) => file.includes("node_modules/jose/"))).toBe(true);
  });

  it("carries zod's English messages only", () => {
    expect(inputs(name).filter((file) => /zod\/v4\/locales\/(?!en\.)/.test(file))).toEqual([]);
  });

  it("contains zod/mini and no denied module: zod classic, zod's JSON Schema generator, the AWS SDK's event-stream codec", () => {
    expect(inputs(name).some((file) => file.includes("node_modules/zod/v4/mini/"))).toBe(true);
    expect(inputs(name).filter((file) => deniedModules.some((pattern) => pattern.test(file)))).toEqual([]);
  });
});
