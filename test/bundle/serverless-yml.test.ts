import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { build } from "esbuild";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { configVariables, type Config } from "../../shared/config/index.js";
import { functionConfigFields } from "../../shared/config/functions.js";
import { bundleOptions } from "../../scripts/build.js";
import { deploySourceVariables, deployedVariables, functionSpecs } from "../../scripts/functions.js";

const root = join(import.meta.dirname, "../..");
const manifest = parse(readFileSync(join(root, "serverless.yml"), "utf8"));
const require = createRequire(import.meta.url);
type FunctionInputs = { name: string; src: string; handler: string; runtime: string; environments: { key: string; value: string }[] };
const functions = manifest.inputs.functions as Record<string, FunctionInputs>;

/** Config fields named anywhere in the source files esbuild keeps in `name`'s bundle (config itself aside). */
async function configFieldsInBundle(name: string): Promise<string[]> {
  const result = await build({ ...bundleOptions(name), write: false, metafile: true, outfile: join(root, "dist", "scan", "index.js") });
  const output = Object.values(result.metafile.outputs)[0]!;
  const sources = Object.entries(output.inputs)
    .filter(([file, input]) => input.bytesInOutput > 0 && !file.includes("node_modules") && !file.startsWith("shared/config/"))
    .map(([file]) => readFileSync(join(root, file), "utf8"));
  return Object.keys(configVariables).filter((field) => sources.some((source) => new RegExp(`(?<![\\w$])${field}(?![\\w$])`).test(source)));
}

describe("serverless.yml", () => {
  it("declares exactly the functions the build produces, each from its own dist folder on Nodejs20.19", () => {
    expect(Object.keys(functions).sort()).toEqual(functionSpecs.map((spec) => spec.name).sort());
    expect(manifest.inputs.src.src).toBe("./dist");
    expect(manifest.inputs.runtime).toBeUndefined();
    for (const [name, inputs] of Object.entries(functions)) {
      expect([inputs.src, inputs.handler, inputs.runtime]).toEqual([`./${name}`, "index.main_handler", "Nodejs20.19"]);
    }
  });

  it("binds the execution role whose credentials SCF injects", () => {
    expect(manifest.inputs.role).toBe("${env:SCF_EXECUTION_ROLE}");
  });

  it.each(functionSpecs.map((spec) => [spec.name, spec] as const))("points %s at a built bundle that exports the handler, with its trigger", (name, spec) => {
    const bundle = join(root, "dist", functions[name]!.src, "index.js");
    expect(existsSync(bundle)).toBe(true);
    expect(existsSync(join(root, "dist", `${name}.zip`))).toBe(true);
    // Loading a bundle reads config at cold start; the test run's environment has it all.
    expect(typeof require(bundle).main_handler).toBe("function");
    const triggers = (manifest.inputs.triggers as { type: string; function: string; parameters: Record<string, unknown> }[]).filter((t) => t.function === name);
    if (spec.kind === "http") {
      expect(triggers.map((t) => t.type)).toEqual(["http"]);
      expect(triggers[0]!.parameters).toMatchObject({ authType: "NONE", netConfig: { enableExtranet: true } });
    } else {
      expect(triggers.map((t) => t.type)).toEqual(["timer"]);
      expect(triggers[0]!.parameters.cronExpression).toBe("0 */1 * * * * *");
    }
  });

  it.each(functionSpecs.map((spec) => spec.name))("gives %s exactly the environment its config fields read", (name) => {
    const declared = functions[name]!.environments;
    const expected = deployedVariables(name).map((key) => ({ key, value: `\${env:${deploySourceVariables[key] ?? key}}` }));
    expect(declared, `serverless.yml, functions.${name}.environments should be:\n${expected.map((e) => `  - key: ${e.key}\n    value: ${e.value}`).join("\n")}`).toEqual(expected);
  });

  it.each(functionSpecs.map((spec) => spec.name))("lists every config field %s's bundled code reads", async (name) => {
    const read = await configFieldsInBundle(name);
    expect(read.length).toBeGreaterThan(3);
    const declared: readonly (keyof Config)[] = functionConfigFields[name];
    expect(read.filter((field) => !declared.includes(field as keyof Config)), `add these to functionConfigFields["${name}"]`).toEqual([]);
  });
});
