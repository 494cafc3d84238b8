/**
 * The SCF functions of onair, in one list: the build bundles each, the local stack mounts
 * the HTTP ones, and a test checks serverless.yml against it.
 */
export interface FunctionSpec {
  name: string;
  kind: "http" | "timer";
  /** Public paths (regex on the path) this function serves; a deployment routes `/v1/...` by them. */
  paths: RegExp[];
}

export const functionSpecs: FunctionSpec[] = [
  { name: "usersig", kind: "http", paths: [/^\/v1\/(accounts|sessions|usersig)(\/|$)/] },
  // The room leaderboard is money data, so wallet serves it although it sits under /v1/rooms.
  { name: "wallet", kind: "http", paths: [/^\/v1\/rooms\/[^/]+\/leaderboard\/?$/, /^\/v1\/(gifts|wallet|admin\/wallets)(\/|$)/] },
  { name: "rooms", kind: "http", paths: [/^\/v1\/(rooms|replays|admin\/outbox)(\/|$)/] },
  { name: "im-callback", kind: "http", paths: [/^\/v1\/callbacks\/im\/?$/] },
  { name: "live-callback", kind: "http", paths: [/^\/v1\/callbacks\/(live|trtc|vod)\/?$/] },
  { name: "sweeper", kind: "timer", paths: [] },
];

/** The HTTP function that serves `path`, first match wins. */
export function functionForPath(path: string): FunctionSpec | undefined {
  return functionSpecs.find((spec) => spec.paths.some((pattern) => pattern.test(path)));
}
