/**
 * `npm run deploy:check`: before `sls deploy`, resolve serverless.yml with .env as the CLI
 * would and validate every function's configuration offline, naming whatever is missing or
 * wrong. Exits 1 when anything would break the deployment.
 *
 *   cp .env.example .env && $EDITOR .env && npm run build && npm run deploy:check
 *   npm run deploy:check -- --env-file .env.prod
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseEnv } from "node:util";
import { ConfigError, configVariableNames, parseConfig, renamedVariableWarnings } from "../shared/config/index.js";
import { examplePlaceholderPrefix } from "../shared/config/local-secrets.js";
import { functionConfigFields, type FunctionName } from "../shared/config/functions.js";
import { deployedVariables, functionSpecs } from "./functions.js";
import { resolveDeployment } from "./deployment.js";

/** Regions the multi-scf component accepts (serverless.component.yml, actions.deploy.inputs.region.allow). */
export const componentRegions = [
  "ap-beijing", "ap-chengdu", "ap-chongqing", "ap-guangzhou", "ap-hongkong", "ap-mumbai", "ap-seoul", "ap-shanghai",
  "ap-shanghai-fsi", "ap-shenzhen-fsi", "ap-singapore", "ap-tokyo", "eu-frankfurt", "na-siliconvalley", "na-toronto",
];

/** Placeholders for what SCF injects once the execution role is bound; only their presence matters offline. */
const injectedByRole = { TENCENTCLOUD_SECRETID: "AKIDrole", TENCENTCLOUD_SECRETKEY: "role-secret-key", TENCENTCLOUD_SESSIONTOKEN: "role-session-token" };

export interface CheckResult {
  lines: string[];
  problems: string[];
  warnings: string[];
}

/** Check `manifestText` resolved against `env` (the .env file under the shell's variables). */
export function checkDeployment({ manifestText, env: fromFile, distDir }: { manifestText: string; env: Record<string, string | undefined>; distDir: string }): CheckResult {
  let env = fromFile;
  const problems: string[] = [];
  const warnings: string[] = [...renamedVariableWarnings(env)];
  // The example's placeholders stand for values that pass; the functions refuse them at cold start.
  const placeholders = Object.keys(env).filter((name) => env[name]?.startsWith(examplePlaceholderPrefix));
  if (placeholders.length) {
    warnings.push(`still .env.example placeholders, to replace before sls deploy (the functions refuse them at cold start): ${placeholders.join(", ")}`);
    env = { ...env, ...Object.fromEntries(placeholders.map((name) => [name, `checked-placeholder-${name.toLowerCase()}-0123456789abcdef`])) };
  }
  const deployment = resolveDeployment(manifestText, env);
  const lines = [`stage ${deployment.stage ?? "?"}, region ${deployment.region ?? "?"}, app ${deployment.app ?? "?"}`];

  if (!deployment.stage) problems.push("STAGE is not set (serverless.yml: stage)");
  for (const name of deployment.unsetInText) problems.push(`${name} is not set (serverless.yml uses it inside a value; the CLI would write "undefined")`);
  if (!deployment.region) problems.push("TENCENT_REGION is not set (serverless.yml: inputs.region)");
  else if (!componentRegions.includes(deployment.region)) problems.push(`TENCENT_REGION ${deployment.region} is not a region the multi-scf component accepts: ${componentRegions.join(", ")}`);

  const given = new Set<string>();
  // The same problem in several functions is one line naming them all.
  const functionsWith = new Map<string, string[]>();
  for (const spec of functionSpecs) {
    const fn = deployment.functions.find((candidate) => candidate.key === spec.name);
    if (!fn) {
      problems.push(`serverless.yml has no function ${spec.name}`);
      continue;
    }
    const own: string[] = [];
    if (!fn.role) own.push("no execution role (SCF_EXECUTION_ROLE is not set): TRTC, CSS and VOD calls would have no credentials");
    if (!existsSync(join(distDir, fn.src, `${fn.handler?.split(".")[0]}.js`))) own.push(`${join(deployment.srcDir, fn.src)} has no handler file for ${fn.handler} (run npm run build)`);
    const notPassed = deployedVariables(spec.name).filter((variable) => !(variable in fn.sources));
    if (notPassed.length) own.push(`serverless.yml does not pass ${notPassed.join(", ")}, which the config reads`);
    for (const variable of Object.keys(fn.sources)) given.add(fn.sources[variable]!);
    try {
      parseConfig({ ...fn.environment, ...(fn.role ? injectedByRole : {}) }, functionConfigFields[spec.name as FunctionName]);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      // Name the .env variable the operator sets, when serverless.yml maps it to another key.
      for (const problem of error.problems) {
        const [key = "", ...rest] = problem.split(" ");
        const source = fn.sources[key];
        own.push(source && source !== key ? `${source} (passed as ${key}) ${rest.join(" ")}` : problem);
      }
    }
    for (const problem of own) functionsWith.set(problem, [...(functionsWith.get(problem) ?? []), spec.name]);
    lines.push(`${own.length ? "FAIL" : "ok  "} ${spec.name.padEnd(14)} ${fn.name}  ${fn.runtime}  ${fn.handler}  ${Object.keys(fn.environment).length} variables`);
  }
  for (const [problem, names] of functionsWith) problems.push(`${problem} (${names.join(", ")})`);

  if (env.TENCENT_SECRET_KEY !== undefined) {
    warnings.push("TENCENT_SECRET_KEY is set: the Serverless CLI takes TENCENT_SECRET_ID/TENCENT_SECRET_KEY as its deploy credentials. The IM app key goes in IM_SDK_SECRET_KEY");
  }
  const ignored = configVariableNames.filter((name) => env[name] !== undefined && !given.has(name) && name !== "TENCENT_SECRET_KEY");
  if (ignored.length) warnings.push(`set but given to no function by serverless.yml: ${ignored.join(", ")}`);
  return { lines, problems, warnings };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = join(fileURLToPath(import.meta.url), "../..");
  const flag = process.argv.indexOf("--env-file");
  const envFile = flag > 0 ? process.argv[flag + 1]! : join(root, ".env");
  if (!existsSync(envFile)) {
    console.error(`${envFile} not found: copy .env.example to .env and fill it in (docs/deploy.md)`);
    process.exit(1);
  }
  // As the CLI loads .env (dotenv): variables already in the shell win.
  const env = { ...parseEnv(readFileSync(envFile, "utf8")), ...process.env };
  const { lines, problems, warnings } = checkDeployment({ manifestText: readFileSync(join(root, "serverless.yml"), "utf8"), env, distDir: join(root, "dist") });
  console.log(`deploy:check  serverless.yml with ${envFile}\n${lines.map((line) => `  ${line}`).join("\n")}`);
  if (warnings.length) console.log(`warnings:\n${warnings.map((warning) => `  - ${warning}`).join("\n")}`);
  if (problems.length) {
    console.log(`problems (${problems.length}):\n${problems.map((problem) => `  - ${problem}`).join("\n")}`);
    process.exit(1);
  }
  console.log(warnings.some((warning) => warning.startsWith("still .env.example placeholders")) ? "ready to deploy once the placeholders are replaced: sls deploy" : "ready to deploy: sls deploy");
}
