import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { configVariableNames } from "../../shared/config/index.js";
import { functionSpecs } from "../../scripts/functions.js";

const root = join(import.meta.dirname, "../..");
const manifest = parse(readFileSync(join(root, "serverless.yml"), "utf8"));
const require = createRequire(import.meta.url);

describe("serverless.yml", () => {
  it("declares exactly the functions the build produces, on Nodejs18.15", () => {
    expect(Object.keys(manifest.inputs.functions).sort()).toEqual(functionSpecs.map((spec) => spec.name).sort());
    expect(manifest.inputs.runtime).toBe("Nodejs18.15");
    expect(manifest.inputs.src.src).toBe("./dist");
  });

  it.each(functionSpecs.map((spec) => [spec.name, spec] as const))("points %s at a built bundle that exports the handler", (name, spec) => {
    const handler: string = manifest.inputs.functions[name].handler;
    const [file, exported] = [handler.slice(0, handler.lastIndexOf(".")), handler.slice(handler.lastIndexOf(".") + 1)];
    const bundle = join(root, "dist", `${file}.js`);
    expect(existsSync(bundle)).toBe(true);
    expect(existsSync(join(root, "dist", `${name}.zip`))).toBe(true);
    expect(exported).toBe("main_handler");
    // Loading a bundle reads config at cold start; the test run's environment has it all.
    expect(typeof require(bundle)[exported]).toBe("function");
    const triggers = (manifest.inputs.triggers as { type: string; function: string; parameters: Record<string, unknown> }[]).filter((t) => t.function === name);
    if (spec.kind === "http") {
      expect(triggers.map((t) => t.type)).toEqual(["http"]);
    } else {
      expect(triggers.map((t) => t.type)).toEqual(["timer"]);
      expect(triggers[0]!.parameters.cronExpression).toBe("0 */1 * * * * *");
    }
  });

  it("passes every config variable a deployed function reads through to the functions", () => {
    const keys = (manifest.inputs.environments as { key: string }[]).map((entry) => entry.key);
    // Endpoint overrides and explicit API keys are for runs off SCF; the role gives deployed functions theirs.
    const offScfOnly = ["TENCENT_API_ENDPOINT", "TENCENT_API_SECRET_ID", "TENCENT_API_SECRET_KEY", "TENCENT_API_SESSION_TOKEN"];
    expect(keys).toEqual(expect.arrayContaining(configVariableNames.filter((name) => !offScfOnly.includes(name))));
  });
});
