import { functionVariables, type FunctionName } from "../shared/config/functions.js";

/**
 * The SCF functions of onair, in one list: the build bundles each, the local stack mounts
 * the HTTP ones, and a test checks serverless.yml against it.
 */
export interface FunctionSpec {
  name: FunctionName;
  kind: "http" | "timer";
  /** Public paths (regex on the path) this function serves; a deployment routes `/v1/...` by them. */
  paths: RegExp[];
}

export const functionSpecs: FunctionSpec[] = [
  { name: "usersig", kind: "http", paths: [/^\/v1\/(accounts|sessions|usersig)(\/|$)/] },
  // The room leaderboard is money data, so wallet serves it although it sits under /v1/rooms.
  { name: "wallet", kind: "http", paths: [/^\/v1\/rooms\/[^/]+\/leaderboard\/?$/, /^\/v1\/(gifts|wallet|admin\/wallets|admin\/audit\/wallets)(\/|$)/] },
  { name: "rooms", kind: "http", paths: [/^\/v1\/(rooms|replays|admin\/outbox)(\/|$)/] },
  { name: "im-callback", kind: "http", paths: [/^\/v1\/callbacks\/im\/?$/] },
  { name: "live-callback", kind: "http", paths: [/^\/v1\/callbacks\/(live|trtc|vod)\/?$/] },
  { name: "sweeper", kind: "timer", paths: [] },
];

/** The HTTP function that serves `path`, first match wins. */
export function functionForPath(path: string): FunctionSpec | undefined {
  return functionSpecs.find((spec) => spec.paths.some((pattern) => pattern.test(path)));
}

/** Variables a deployed function does without: the execution role stands in for explicit API keys. */
const roleReplaces = ["TENCENT_API_SECRET_ID", "TENCENT_API_SECRET_KEY", "TENCENT_API_SESSION_TOKEN"];

/** The environment serverless.yml declares for `name`: every variable its config fields read, bar the keys the role replaces. */
export function deployedVariables(name: FunctionName): string[] {
  return functionVariables(name).filter((variable) => !roleReplaces.includes(variable));
}

/**
 * Where serverless.yml takes a variable's value from, when not the variable of the same name.
 * The Serverless CLI reads TENCENT_SECRET_ID/TENCENT_SECRET_KEY from .env as its own deploy
 * credentials (and `sls login` writes them there), so the IM app key travels as IM_SDK_SECRET_KEY.
 */
export const deploySourceVariables: Record<string, string> = { TENCENT_SECRET_KEY: "IM_SDK_SECRET_KEY" };
