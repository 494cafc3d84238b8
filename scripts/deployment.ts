/**
 * serverless.yml as the Serverless Components CLI and the multi-scf component turn it into SCF
 * functions: what `npm run deploy:check` validates and what the as-deployed test loads.
 */
import { parse } from "yaml";

type Env = Record<string, string | undefined>;

export interface ResolvedFunction {
  key: string;
  name: string;
  /** Folder under the manifest's `src` whose contents become the function's code root. */
  src: string;
  handler: string;
  runtime?: string;
  timeout?: number;
  role?: string;
  /** The variables SCF will hold: unset `${env:…}` entries are dropped, as the CLI drops them. */
  environment: Record<string, string>;
  /** Where each variable's value comes from (`${env:NAME}`), for messages in the operator's terms. */
  sources: Record<string, string>;
}

export interface ResolvedDeployment {
  app?: string;
  stage?: string;
  region?: string;
  srcDir: string;
  functions: ResolvedFunction[];
  triggers: { type: string; function: string; parameters: Record<string, unknown> }[];
  /** `${env:NAME}` references embedded in a longer value whose NAME was unset (the CLI writes "undefined"). */
  unsetInText: string[];
}

const envReference = /\$\{env:([\w.-]+)\}/g;

/**
 * Substitute `${env:NAME}` the way the CLI does (serverless/components, src/cli/utils.js
 * `resolveVariables`): a value that is exactly one reference becomes the variable's value, or
 * undefined when unset; a reference inside longer text becomes the value or the text "undefined".
 */
function resolveEnvReferences(value: unknown, env: Env, unsetInText: Set<string>): unknown {
  if (typeof value === "string") {
    const whole = /^\$\{env:([\w.-]+)\}$/.exec(value);
    if (whole) return env[whole[1]!];
    return value.replace(envReference, (_, name: string) => {
      if (env[name] === undefined) unsetInText.add(name);
      return String(env[name]);
    });
  }
  if (Array.isArray(value)) return value.map((item) => resolveEnvReferences(item, env, unsetInText));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, resolveEnvReferences(inner, env, unsetInText)]));
  }
  return value;
}

/** The engine's own variables (`${stage}`, `${app}`, `${name}`), resolved after the CLI's. */
function resolveEngineVariables(value: unknown, vars: Record<string, string | undefined>): unknown {
  if (typeof value === "string") return value.replace(/\$\{(stage|app|name)\}/g, (_, name: string) => String(vars[name]));
  if (Array.isArray(value)) return value.map((item) => resolveEngineVariables(item, vars));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, resolveEngineVariables(inner, vars)]));
  }
  return value;
}

/** Resolve `manifestText` (serverless.yml) against `env` into the functions multi-scf would create. */
export function resolveDeployment(manifestText: string, env: Env): ResolvedDeployment {
  const raw = parse(manifestText) as Record<string, any>;
  const unsetInText = new Set<string>();
  const cli = resolveEnvReferences(raw, env, unsetInText) as Record<string, any>;
  const manifest = resolveEngineVariables(cli, { stage: cli.stage, app: cli.app, name: cli.name }) as Record<string, any>;
  const inputs = manifest.inputs ?? {};
  const rawFunctions = raw.inputs?.functions ?? {};
  const functions = Object.entries(inputs.functions ?? {}).map(([key, own]) => {
    // multi-scf: Object.assign({}, commonInputs, func): a function's keys replace the shared ones whole.
    const merged = { ...inputs, ...(own as Record<string, any>) };
    const entries = (merged.environments ?? []) as { key: string; value?: string }[];
    const rawEntries = (rawFunctions[key]?.environments ?? raw.inputs?.environments ?? []) as { key: string; value?: string }[];
    return {
      key,
      name: merged.name ?? `${manifest.name}-${manifest.stage}-${manifest.app}-${key}`,
      src: typeof merged.src === "string" ? merged.src : ".",
      handler: merged.handler,
      runtime: merged.runtime,
      timeout: merged.timeout,
      role: merged.role,
      environment: Object.fromEntries(entries.filter((entry) => entry.value !== undefined).map((entry) => [entry.key, String(entry.value)])),
      sources: Object.fromEntries(rawEntries.map((entry) => [entry.key, /^\$\{env:([\w.-]+)\}$/.exec(entry.value ?? "")?.[1] ?? entry.key])),
    } satisfies ResolvedFunction;
  });
  return {
    app: manifest.app,
    stage: manifest.stage,
    region: inputs.region,
    srcDir: typeof inputs.src === "object" ? inputs.src.src : inputs.src,
    functions,
    triggers: inputs.triggers ?? [],
    unsetInText: [...unsetInText],
  };
}
