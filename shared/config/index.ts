import { createLogger } from "../log/index.js";
import { examplePlaceholderPrefix, localSecrets, localStackMarker } from "./local-secrets.js";

/**
 * Configuration is read from the environment once per cold start and validated as a whole (or,
 * for a function, the part it reads): every missing or malformed variable is named in one `ConfigError`.
 *
 * The rules are plain functions, not zod: a zod schema of every variable was built and run at each
 * cold start (README "What goes into a bundle").
 */
class Refused {
  constructor(readonly problem: string) {}
}
/** A variable's rule: the value it reads from the string, or why it refuses it (`undefined`: unset). */
type Rule<T = unknown> = (raw: string | undefined) => T | Refused;
type Parse<T> = (raw: string) => T | Refused;

const required =
  <T>(parse: Parse<T>): Rule<T> =>
  (raw) =>
    raw === undefined ? new Refused("is missing") : parse(raw);
const optional =
  <T>(parse: Parse<T>): Rule<T | undefined> =>
  (raw) =>
    raw === undefined ? undefined : parse(raw);
const withDefault =
  <T>(parse: Parse<T>, fallback: T): Rule<T> =>
  (raw) =>
    raw === undefined ? fallback : parse(raw);

const text: Parse<string> = (raw) => raw;
const matching =
  (pattern: RegExp, problem: string): Parse<string> =>
  (raw) =>
    pattern.test(raw) ? raw : new Refused(problem);
const atLeast =
  (length: number): Parse<string> =>
  (raw) =>
    raw.length >= length ? raw : new Refused(`must be at least ${length} characters`);
/** An integer within [min, max], read as `Number` reads it (so ` 10 ` and `1e3` pass). */
const integer =
  (min: number, max = Number.MAX_SAFE_INTEGER): Parse<number> =>
  (raw) => {
    const value = Number(raw);
    if (!Number.isInteger(value)) return new Refused("must be an integer");
    if (max !== Number.MAX_SAFE_INTEGER && (value < min || value > max)) return new Refused(`must be from ${min} to ${max}`);
    if (value > max) return new Refused(`must be at most ${max}`);
    if (value < min) return new Refused(min === 1 ? "must be a positive integer" : `must be at least ${min}`);
    return value;
  };
const flag = withDefault(matching(/^(true|false)$/, "must be true or false"), "false");
const url: Parse<string> = (raw) => {
  const value = raw.trim();
  return /^https?:\/\/[^\s]+$/i.test(value) && URL.canParse(value) ? value : new Refused("must be an http:// or https:// URL");
};
const secret = required(atLeast(8));
const domain = required(matching(/^[A-Za-z0-9.-]+(:\d+)?$/, "must be a host name"));
const seconds = (fallback: number) => withDefault(integer(1), fallback);
const imUserId = /[A-Za-z0-9_-]{1,32}/.source;

const variables = {
  TENCENT_SDKAPPID: required(integer(1)),
  /** The key UserSigs are signed with (console: IM/TRTC application key). */
  TENCENT_SECRET_KEY: secret,
  /** The IM admin onair signs REST calls as. */
  IM_ADMIN_USER: withDefault(matching(new RegExp(`^${imUserId}$`), "must be an IM user id (1-32 letters, digits, _ or -)"), "administrator"),
  /** Every other IM admin account of the app, comma-separated: no user may register or be issued one. */
  IM_ADMIN_USERS: optional(matching(new RegExp(`^${imUserId}(,\\s*${imUserId})*$`), "must be a comma-separated list of IM user ids")),
  IM_CALLBACK_TOKEN: secret,
  CSS_CALLBACK_KEY: secret,
  TRTC_CALLBACK_KEY: secret,
  CSS_PUSH_KEY: secret,
  CSS_PUSH_DOMAIN: domain,
  CSS_PLAY_DOMAIN: domain,
  ONAIR_ADMIN_KEY: required(atLeast(16)),
  HEARTBEAT_INTERVAL_SECONDS: seconds(10),
  ROOM_STALE_SECONDS: seconds(30),
  USERSIG_TTL_SECONDS: seconds(86_400),
  /** Lifetime of a per-room TRTC ticket (PrivateMapKey); TRTC checks it at room entry and role switch. */
  TRTC_TICKET_TTL_SECONDS: withDefault(integer(30, 3600), 300),
  /** Browser origins allowed to call the app routes, comma-separated (`*` only when set so). @default none */
  CORS_ORIGINS: optional((raw) =>
    raw.split(",").every((origin) => isOrigin(origin.trim())) ? raw : new Refused("must be '*' or a comma-separated list of origins like https://app.example.com"),
  ),
  /** Serve the API docs page (`/docs`) and `/openapi.json` from the usersig function. @default false */
  DOCS_ENABLED: flag,
  /** Accounts one client IP may register per hour. */
  REGISTRATIONS_PER_IP_PER_HOUR: withDefault(integer(1), 20),
  SESSION_TTL_SECONDS: seconds(7 * 86_400),
  /** A room created but never reported live expires after this long. */
  CREATED_ROOM_TTL_SECONDS: seconds(600),
  COHOST_INVITE_TTL_SECONDS: seconds(60),
  MAX_COHOSTS: withDefault(integer(1, 8), 3),
  /** Lifetime of a signed push URL (its txTime). */
  PUSH_URL_TTL_SECONDS: seconds(86_400),
  /** Record live rooms for replay (TRTC cloud recording into VOD). */
  RECORDING_ENABLED: flag,
  RECORDING_MAX_FILE_MINUTES: withDefault(integer(1, 1440), 60),
  /** A live room whose stream ended is closed after this long unless the stream comes back. */
  STREAM_END_GRACE_SECONDS: seconds(60),
  /** A CDN stream that belongs to no live room is dropped once it has pushed this long. */
  ORPHAN_STREAM_GRACE_SECONDS: seconds(60),
  /** How often the sweeper reconciles the CDN's online streams with live rooms. */
  ORPHAN_SCAN_INTERVAL_SECONDS: seconds(600),
  /** Shared secret VOD event callbacks must carry as `?token=` (VOD does not sign its callbacks). */
  VOD_CALLBACK_TOKEN: secret,
  /** VOD application (SubAppId) recordings go to and files are looked up in; VOD accounts opened since 2023-12-25 need it. */
  VOD_SUB_APP_ID: optional(integer(1)),
  DYNAMODB_ENDPOINT: optional(url),
  /** An AWS region (`ap-southeast-1`, `cn-north-1`); with DYNAMODB_ENDPOINT, whatever region that service signs with. */
  DYNAMODB_REGION: optional(text),
  DYNAMODB_TABLE: withDefault(matching(/^[A-Za-z0-9_.-]{3,255}$/, "must be a DynamoDB table name (3-255 letters, digits, _, . or -)"), "onair"),
  /** DynamoDB credentials (an IAM user's keys: SCF has no AWS role to assume). */
  AWS_ACCESS_KEY_ID: required(text),
  AWS_SECRET_ACCESS_KEY: required(text),
  AWS_SESSION_TOKEN: optional(text),
  TENCENT_REGION: withDefault(matching(/^[a-z]+(-[a-z]+)+$/, "must be a Tencent Cloud region such as ap-guangzhou"), "ap-guangzhou"),
  /** Cloud API host override, e.g. `127.0.0.1:3001` for the local emulator. */
  TENCENT_API_ENDPOINT: optional(text),
  /** Cloud API keys for runs outside SCF; deployed, the execution role's credentials are used. */
  TENCENT_API_SECRET_ID: optional(text),
  TENCENT_API_SECRET_KEY: optional(text),
  TENCENT_API_SESSION_TOKEN: optional(text),
  /** IM REST base URL override, e.g. `http://127.0.0.1:3001`. */
  IM_API_BASE: withDefault(url, "https://console.tim.qq.com"),
  /** Verify app-issued JWTs (HS256) as an alternative to onair sessions. */
  AUTH_JWT_SECRET: optional(atLeast(32)),
  /** Verify app-issued JWTs against this JWKS (RS256/ES256) as an alternative to onair sessions. */
  AUTH_JWKS_URL: optional(url),
  AUTH_JWT_ISSUER: optional(text),
  AUTH_JWT_AUDIENCE: optional(text),
  BROADCAST_INTERVAL_MS: withDefault(integer(100, 5000), 500),
  BROADCAST_HIGH_PRIORITY_COINS: withDefault(integer(1), 1000),
} satisfies Record<string, Rule>;

type EnvName = keyof typeof variables;
type EnvValues = { [Name in EnvName]: Exclude<ReturnType<(typeof variables)[Name]>, Refused> };

const isOrigin = (value: string) => value === "*" || /^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$/.test(value);

export interface Config {
  sdkAppId: number;
  userSigKey: string;
  imAdminUser: string;
  /** `imAdminUser` and every id of IM_ADMIN_USERS. */
  imAdminUsers: string[];
  imCallbackToken: string;
  cssCallbackKey: string;
  trtcCallbackKey: string;
  cssPushKey: string;
  cssPushDomain: string;
  cssPlayDomain: string;
  adminKey: string;
  heartbeatIntervalSeconds: number;
  roomStaleSeconds: number;
  userSigTtlSeconds: number;
  trtcTicketTtlSeconds: number;
  /** Allowed browser origins; empty lets no browser in, `["*"]` every one. */
  corsOrigins: string[];
  docsEnabled: boolean;
  registrationsPerIpPerHour: number;
  sessionTtlSeconds: number;
  createdRoomTtlSeconds: number;
  cohostInviteTtlSeconds: number;
  maxCohosts: number;
  pushUrlTtlSeconds: number;
  recordingEnabled: boolean;
  recordingMaxFileMinutes: number;
  streamEndGraceSeconds: number;
  orphanStreamGraceSeconds: number;
  orphanScanIntervalSeconds: number;
  vodCallbackToken: string;
  vodSubAppId?: number;
  dynamodb: { endpoint?: string; region: string; table: string };
  awsCredentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Region, endpoint and the explicit keys; the role's credentials are read per call (`shared/tencent/cloud.ts`). */
  tencentCloud: { region: string; endpoint?: string; secretId?: string; secretKey?: string; sessionToken?: string };
  imApiBase: string;
  jwt?: { secret?: string; jwksUrl?: string; issuer?: string; audience?: string };
  /** Room gift broadcasts (README "Room broadcasts"): the shortest gap between a room's gift messages, and the gift value sent High. */
  broadcasts: { intervalMs: number; highPriorityCoins: number };
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(readonly problems: string[]) {
    super(`Invalid configuration: ${problems.join("; ")}`);
  }
}

/** Old names still read, with a warning, when the new one is unset. `TENCENTCLOUD_` is reserved on SCF. */
export const renamedVariables: Record<string, EnvName> = {
  TENCENTCLOUD_REGION: "TENCENT_REGION",
  TENCENTCLOUD_ENDPOINT: "TENCENT_API_ENDPOINT",
  TENCENTCLOUD_SECRET_ID: "TENCENT_API_SECRET_ID",
  TENCENTCLOUD_SECRET_KEY: "TENCENT_API_SECRET_KEY",
  TENCENTCLOUD_SESSION_TOKEN: "TENCENT_API_SESSION_TOKEN",
};

/** A warning per old variable name in `env`. */
export function renamedVariableWarnings(env: NodeJS.ProcessEnv): string[] {
  return Object.entries(renamedVariables)
    .filter(([old]) => env[old])
    .map(([old, name]) => `${old} is deprecated, set ${name} instead${env[name] ? ` (${old} is ignored: ${name} is set)` : ""}`);
}

/** The temporary credentials SCF injects when the function has an execution role. */
export function roleCredentials(env: NodeJS.ProcessEnv): { secretId: string; secretKey: string; token?: string } | undefined {
  const { TENCENTCLOUD_SECRETID: secretId, TENCENTCLOUD_SECRETKEY: secretKey, TENCENTCLOUD_SESSIONTOKEN: token } = env;
  return secretId && secretKey ? { secretId, secretKey, token: token || undefined } : undefined;
}

// A real AWS region; `ap-guangzhou` is Tencent's and would resolve dynamodb.ap-guangzhou.amazonaws.com.
// AWS names regions by compass direction (`ap-southeast-1`); Tencent by city (`ap-guangzhou`, zone `ap-guangzhou-3`).
const awsRegion = /^[a-z]{2}(-gov|-iso[a-z]?)?-(north|south|east|west|central|northeast|northwest|southeast|southwest)-\d+$/;

/**
 * Validate `env` and return the typed config, or throw one `ConfigError` naming every problem.
 * With `fields`, only the variables behind those fields are read (a function gets only its own
 * environment), and reading any other field throws.
 */
export function parseConfig(env: NodeJS.ProcessEnv, fields?: readonly (keyof Config)[]): Config {
  // Empty strings count as unset, as in most deploy tools' env editors.
  const present: Record<string, string> = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== "")) as Record<string, string>;
  for (const [old, name] of Object.entries(renamedVariables)) {
    if (present[old] !== undefined && present[name] === undefined) present[name] = present[old];
  }
  const names = new Set<EnvName>(fields ? fields.flatMap((field) => configVariables[field]) : configVariableNames);
  const values: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const name of configVariableNames) {
    if (!names.has(name)) continue;
    const value = variables[name](present[name]);
    if (value instanceof Refused) problems.push(`${name} ${value.problem}`);
    else values[name] = value;
  }
  if (names.has("DYNAMODB_REGION") && !present.DYNAMODB_ENDPOINT) {
    if (!present.DYNAMODB_REGION) problems.push("DYNAMODB_REGION is missing (an AWS region such as ap-southeast-1, or set DYNAMODB_ENDPOINT)");
    else if (!awsRegion.test(present.DYNAMODB_REGION)) problems.push(`DYNAMODB_REGION must be an AWS region such as ap-southeast-1, not ${present.DYNAMODB_REGION}`);
  }
  if (names.has("TENCENT_API_SECRET_ID") && !roleCredentials(env)) {
    const missing = (["TENCENT_API_SECRET_ID", "TENCENT_API_SECRET_KEY"] as const).filter((name) => !present[name]);
    if (missing.length) problems.push(`${missing.join(" and ")} ${missing.length > 1 ? "are" : "is"} missing (deployed: bind an execution role, SCF then injects its credentials)`);
  }
  if (present.AUTH_JWT_SECRET && present.AUTH_JWKS_URL && names.has("AUTH_JWT_SECRET")) problems.push("set AUTH_JWT_SECRET or AUTH_JWKS_URL, not both");
  for (const name of names) {
    if (present[name]?.trim().toLowerCase().startsWith(examplePlaceholderPrefix)) problems.push(`${name} is still the .env.example placeholder; set a real value`);
  }
  if (present[localStackMarker.name] !== localStackMarker.value) {
    // A trailing space or other case is still the public value to anyone guessing.
    const sameSecret = (given: string | undefined, local: string) => given?.trim().toLowerCase() === local.toLowerCase();
    for (const [name, value] of Object.entries(localSecrets)) {
      if (names.has(name as EnvName) && sameSecret(present[name], value)) problems.push(`${name} is the local stack's public default; set a secret of your own`);
    }
  }
  if (problems.length) throw new ConfigError([...new Set(problems)]);
  const e = values as EnvValues;
  const config: Config = {
    sdkAppId: e.TENCENT_SDKAPPID,
    userSigKey: e.TENCENT_SECRET_KEY,
    imAdminUser: e.IM_ADMIN_USER,
    imAdminUsers: [e.IM_ADMIN_USER, ...(e.IM_ADMIN_USERS?.split(",").map((id) => id.trim()) ?? [])],
    imCallbackToken: e.IM_CALLBACK_TOKEN,
    cssCallbackKey: e.CSS_CALLBACK_KEY,
    trtcCallbackKey: e.TRTC_CALLBACK_KEY,
    cssPushKey: e.CSS_PUSH_KEY,
    cssPushDomain: e.CSS_PUSH_DOMAIN,
    cssPlayDomain: e.CSS_PLAY_DOMAIN,
    adminKey: e.ONAIR_ADMIN_KEY,
    heartbeatIntervalSeconds: e.HEARTBEAT_INTERVAL_SECONDS,
    roomStaleSeconds: e.ROOM_STALE_SECONDS,
    userSigTtlSeconds: e.USERSIG_TTL_SECONDS,
    trtcTicketTtlSeconds: e.TRTC_TICKET_TTL_SECONDS,
    corsOrigins: e.CORS_ORIGINS?.split(",").map((origin) => origin.trim()) ?? [],
    docsEnabled: e.DOCS_ENABLED === "true",
    registrationsPerIpPerHour: e.REGISTRATIONS_PER_IP_PER_HOUR,
    sessionTtlSeconds: e.SESSION_TTL_SECONDS,
    createdRoomTtlSeconds: e.CREATED_ROOM_TTL_SECONDS,
    cohostInviteTtlSeconds: e.COHOST_INVITE_TTL_SECONDS,
    maxCohosts: e.MAX_COHOSTS,
    pushUrlTtlSeconds: e.PUSH_URL_TTL_SECONDS,
    recordingEnabled: e.RECORDING_ENABLED === "true",
    recordingMaxFileMinutes: e.RECORDING_MAX_FILE_MINUTES,
    streamEndGraceSeconds: e.STREAM_END_GRACE_SECONDS,
    orphanStreamGraceSeconds: e.ORPHAN_STREAM_GRACE_SECONDS,
    orphanScanIntervalSeconds: e.ORPHAN_SCAN_INTERVAL_SECONDS,
    vodCallbackToken: e.VOD_CALLBACK_TOKEN,
    vodSubAppId: e.VOD_SUB_APP_ID,
    // With an endpoint the region only scopes the signature (DynamoDB Local takes any).
    dynamodb: { endpoint: e.DYNAMODB_ENDPOINT, region: e.DYNAMODB_REGION ?? "us-east-1", table: e.DYNAMODB_TABLE },
    awsCredentials: { accessKeyId: e.AWS_ACCESS_KEY_ID, secretAccessKey: e.AWS_SECRET_ACCESS_KEY, sessionToken: e.AWS_SESSION_TOKEN },
    tencentCloud: {
      region: e.TENCENT_REGION,
      endpoint: e.TENCENT_API_ENDPOINT,
      secretId: e.TENCENT_API_SECRET_ID,
      secretKey: e.TENCENT_API_SECRET_KEY,
      sessionToken: e.TENCENT_API_SESSION_TOKEN,
    },
    imApiBase: e.IM_API_BASE?.replace(/\/+$/, ""),
    jwt:
      e.AUTH_JWT_SECRET || e.AUTH_JWKS_URL
        ? { secret: e.AUTH_JWT_SECRET, jwksUrl: e.AUTH_JWKS_URL, issuer: e.AUTH_JWT_ISSUER, audience: e.AUTH_JWT_AUDIENCE }
        : undefined,
    broadcasts: { intervalMs: e.BROADCAST_INTERVAL_MS, highPriorityCoins: e.BROADCAST_HIGH_PRIORITY_COINS },
  };
  return fields ? onlyFields(config, fields) : config;
}

/** `config` with every field outside `fields` turned into an error that names the variables to declare. */
function onlyFields(config: Config, fields: readonly (keyof Config)[]): Config {
  const allowed = new Set<PropertyKey>(fields);
  return new Proxy(config, {
    get(target, field, receiver) {
      if (typeof field === "string" && Object.hasOwn(configVariables, field) && !allowed.has(field)) {
        throw new Error(`config.${field} is not in this function's configuration: add it to shared/config/functions.ts (variables ${configVariables[field as keyof Config].join(", ")})`);
      }
      return Reflect.get(target, field, receiver);
    },
  });
}

const cached = new Map<string, Config>();

/**
 * The process's config, parsed on first use (at cold start: every function calls it at load).
 * @param fields the fields the caller reads (its function's list in `shared/config/functions.ts`); all when omitted
 */
export function getConfig(fields?: readonly (keyof Config)[]): Config {
  const key = fields?.join() ?? "*";
  let config = cached.get(key);
  if (!config) {
    config = parseConfig(process.env, fields);
    if (!cached.size) for (const warning of renamedVariableWarnings(process.env)) createLogger({ service: "config" }).warn(warning);
    cached.set(key, config);
  }
  return config;
}

/** Forget the cached config (tests and the local stack change env between runs). */
export function resetConfig(): void {
  cached.clear();
}

/** Every variable the config reads. */
export const configVariableNames = Object.keys(variables) as EnvName[];

/** The variables behind each config field: a function's environment is the union over the fields it reads. */
export const configVariables: Record<keyof Config, readonly EnvName[]> = {
  sdkAppId: ["TENCENT_SDKAPPID"],
  userSigKey: ["TENCENT_SECRET_KEY"],
  imAdminUser: ["IM_ADMIN_USER"],
  imAdminUsers: ["IM_ADMIN_USER", "IM_ADMIN_USERS"],
  imCallbackToken: ["IM_CALLBACK_TOKEN"],
  cssCallbackKey: ["CSS_CALLBACK_KEY"],
  trtcCallbackKey: ["TRTC_CALLBACK_KEY"],
  cssPushKey: ["CSS_PUSH_KEY"],
  cssPushDomain: ["CSS_PUSH_DOMAIN"],
  cssPlayDomain: ["CSS_PLAY_DOMAIN"],
  adminKey: ["ONAIR_ADMIN_KEY"],
  heartbeatIntervalSeconds: ["HEARTBEAT_INTERVAL_SECONDS"],
  roomStaleSeconds: ["ROOM_STALE_SECONDS"],
  userSigTtlSeconds: ["USERSIG_TTL_SECONDS"],
  trtcTicketTtlSeconds: ["TRTC_TICKET_TTL_SECONDS"],
  corsOrigins: ["CORS_ORIGINS"],
  docsEnabled: ["DOCS_ENABLED"],
  registrationsPerIpPerHour: ["REGISTRATIONS_PER_IP_PER_HOUR"],
  sessionTtlSeconds: ["SESSION_TTL_SECONDS"],
  createdRoomTtlSeconds: ["CREATED_ROOM_TTL_SECONDS"],
  cohostInviteTtlSeconds: ["COHOST_INVITE_TTL_SECONDS"],
  maxCohosts: ["MAX_COHOSTS"],
  pushUrlTtlSeconds: ["PUSH_URL_TTL_SECONDS"],
  recordingEnabled: ["RECORDING_ENABLED"],
  recordingMaxFileMinutes: ["RECORDING_MAX_FILE_MINUTES"],
  streamEndGraceSeconds: ["STREAM_END_GRACE_SECONDS"],
  orphanStreamGraceSeconds: ["ORPHAN_STREAM_GRACE_SECONDS"],
  orphanScanIntervalSeconds: ["ORPHAN_SCAN_INTERVAL_SECONDS"],
  vodCallbackToken: ["VOD_CALLBACK_TOKEN"],
  vodSubAppId: ["VOD_SUB_APP_ID"],
  dynamodb: ["DYNAMODB_ENDPOINT", "DYNAMODB_REGION", "DYNAMODB_TABLE"],
  awsCredentials: ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"],
  tencentCloud: ["TENCENT_REGION", "TENCENT_API_ENDPOINT", "TENCENT_API_SECRET_ID", "TENCENT_API_SECRET_KEY", "TENCENT_API_SESSION_TOKEN"],
  imApiBase: ["IM_API_BASE"],
  jwt: ["AUTH_JWT_SECRET", "AUTH_JWKS_URL", "AUTH_JWT_ISSUER", "AUTH_JWT_AUDIENCE"],
  broadcasts: ["BROADCAST_INTERVAL_MS", "BROADCAST_HIGH_PRIORITY_COINS"],
};
