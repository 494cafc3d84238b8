import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Metafile } from "esbuild";
import { describe, expect, it } from "vitest";
import { deniedPackages, metaDir, packageSizes } from "../../scripts/build.js";
import { functionSpecs } from "../../scripts/functions.js";

// `npm test` builds before it tests; the build keeps each bundle's metafile.
const metafile = (name: string) => JSON.parse(readFileSync(join(metaDir, `${name}.json`), "utf8")) as Metafile;

describe.each(functionSpecs.map((spec) => spec.name))("the %s bundle", (name) => {
  it("contains no package on the deny-list", () => {
    const packages = packageSizes(metafile(name)).map(([pkg]) => pkg);
    expect(packages.length).toBeGreaterThan(5);
    expect(packages.filter((pkg) => deniedPackages.includes(pkg))).toEqual([]);
  });

  it("carries zod's English messages only", () => {
    const inputs = Object.keys(Object.values(metafile(name).outputs)[0]!.inputs);
    expect(inputs.filter((file) => /zod\/v4\/locales\/(?!en\.)/.test(file))).toEqual([]);
  });
});
