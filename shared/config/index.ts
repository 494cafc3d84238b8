import { z } from "zod";
import { localSecrets, localStackMarker } from "./local-secrets.js";

/**
 * Configuration is read from the environment once per cold start and validated as a whole:
 * every missing or malformed variable is named in one `ConfigError`.
 */
const seconds = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const secret = z.string().min(8, "must be at least 8 characters");
const domain = z.string().regex(/^[A-Za-z0-9.-]+(:\d+)?$/, "must be a host name");

const envSchema = z.object({
  TENCENT_SDKAPPID: z.coerce.number().int().positive(),
  /** The key UserSigs are signed with (console: IM/TRTC application key). */
  TENCENT_SECRET_KEY: secret,
  /** The IM admin onair signs REST calls as. */
  IM_ADMIN_USER: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/).default("administrator"),
  /** Every other IM admin account of the app, comma-separated: no user may register or be issued one. */
  IM_ADMIN_USERS: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,32}(,\s*[A-Za-z0-9_-]{1,32})*$/, "must be a comma-separated list of IM user ids")
    .optional(),
  IM_CALLBACK_TOKEN: secret,
  CSS_CALLBACK_KEY: secret,
  TRTC_CALLBACK_KEY: secret,
  CSS_PUSH_KEY: secret,
  CSS_PUSH_DOMAIN: domain,
  CSS_PLAY_DOMAIN: domain,
  ONAIR_ADMIN_KEY: z.string().min(16, "must be at least 16 characters"),
  HEARTBEAT_INTERVAL_SECONDS: seconds(10),
  ROOM_STALE_SECONDS: seconds(30),
  USERSIG_TTL_SECONDS: seconds(86_400),
  /** Lifetime of a per-room TRTC ticket (PrivateMapKey); TRTC checks it at room entry and role switch. */
  TRTC_TICKET_TTL_SECONDS: z.coerce.number().int().min(30).max(3600).default(300),
  /** Browser origins allowed to call the app routes, comma-separated (`*` only when set so). @default none */
  CORS_ORIGINS: z
    .string()
    .refine((value) => value.split(",").every((origin) => isOrigin(origin.trim())), "must be '*' or a comma-separated list of origins like https://app.example.com")
    .optional(),
  /** Accounts one client IP may register per hour. */
  REGISTRATIONS_PER_IP_PER_HOUR: z.coerce.number().int().positive().default(20),
  SESSION_TTL_SECONDS: seconds(7 * 86_400),
  /** A room created but never reported live expires after this long. */
  CREATED_ROOM_TTL_SECONDS: seconds(600),
  COHOST_INVITE_TTL_SECONDS: seconds(60),
  MAX_COHOSTS: z.coerce.number().int().min(1).max(8).default(3),
  /** Lifetime of a signed push URL (its txTime). */
  PUSH_URL_TTL_SECONDS: seconds(86_400),
  /** Record live rooms for replay (TRTC cloud recording into VOD). */
  RECORDING_ENABLED: z.enum(["true", "false"]).default("false"),
  RECORDING_MAX_FILE_MINUTES: z.coerce.number().int().min(1).max(1440).default(60),
  /** A live room whose stream ended is closed after this long unless the stream comes back. */
  STREAM_END_GRACE_SECONDS: seconds(60),
  /** A CDN stream that belongs to no live room is dropped once it has pushed this long. */
  ORPHAN_STREAM_GRACE_SECONDS: seconds(60),
  /** How often the sweeper reconciles the CDN's online streams with live rooms. */
  ORPHAN_SCAN_INTERVAL_SECONDS: seconds(600),
  /** Shared secret VOD event callbacks must carry as `?token=` (VOD does not sign its callbacks). */
  VOD_CALLBACK_TOKEN: secret,
  /** VOD application (SubAppId) recordings go to and files are looked up in; VOD accounts opened since 2023-12-25 need it. */
  VOD_SUB_APP_ID: z.coerce.number().int().positive().optional(),
  DYNAMODB_ENDPOINT: z.url().optional(),
  DYNAMODB_REGION: z.string().default("ap-guangzhou"),
  DYNAMODB_TABLE: z.string().regex(/^[A-Za-z0-9_.-]{3,255}$/).default("onair"),
  TENCENTCLOUD_REGION: z.string().default("ap-guangzhou"),
  /** Cloud API host override, e.g. `127.0.0.1:3001` for the local emulator. */
  TENCENTCLOUD_ENDPOINT: z.string().optional(),
  /** IM REST base URL override, e.g. `http://127.0.0.1:3001`. */
  IM_API_BASE: z.url().default("https://console.tim.qq.com"),
  /** Verify app-issued JWTs (HS256) as an alternative to onair sessions. */
  AUTH_JWT_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  /** Verify app-issued JWTs against this JWKS (RS256/ES256) as an alternative to onair sessions. */
  AUTH_JWKS_URL: z.url().optional(),
  AUTH_JWT_ISSUER: z.string().optional(),
  AUTH_JWT_AUDIENCE: z.string().optional(),
});

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
  tencentCloud: { region: string; endpoint?: string; secretId?: string; secretKey?: string; sessionToken?: string };
  imApiBase: string;
  jwt?: { secret?: string; jwksUrl?: string; issuer?: string; audience?: string };
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(readonly problems: string[]) {
    super(`Invalid configuration: ${problems.join("; ")}`);
  }
}

/** Validate `env` and return the typed config, or throw one `ConfigError` naming every problem. */
export function parseConfig(env: NodeJS.ProcessEnv): Config {
  // Empty strings count as unset, as in most deploy tools' env editors.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ""));
  const result = envSchema.safeParse(present);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const name = String(issue.path[0]);
      return present[name] === undefined ? `${name} is missing` : `${name} ${issue.message}`;
    });
    throw new ConfigError([...new Set(problems)]);
  }
  const e = result.data;
  if (e.AUTH_JWT_SECRET && e.AUTH_JWKS_URL) throw new ConfigError(["set AUTH_JWT_SECRET or AUTH_JWKS_URL, not both"]);
  if (present[localStackMarker.name] !== localStackMarker.value) {
    // A trailing space or other case is still the public value to anyone guessing.
    const sameSecret = (given: string | undefined, local: string) => given?.trim().toLowerCase() === local.toLowerCase();
    const defaulted = Object.entries(localSecrets).filter(([name, value]) => sameSecret(present[name], value));
    if (defaulted.length > 0) {
      throw new ConfigError(defaulted.map(([name]) => `${name} is the local stack's public default; set a secret of your own`));
    }
  }
  return {
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
    dynamodb: { endpoint: e.DYNAMODB_ENDPOINT, region: e.DYNAMODB_REGION, table: e.DYNAMODB_TABLE },
    tencentCloud: {
      region: e.TENCENTCLOUD_REGION,
      endpoint: e.TENCENTCLOUD_ENDPOINT,
      // SCF injects role credentials without the underscore; explicit keys win.
      secretId: env.TENCENTCLOUD_SECRET_ID || env.TENCENTCLOUD_SECRETID,
      secretKey: env.TENCENTCLOUD_SECRET_KEY || env.TENCENTCLOUD_SECRETKEY,
      sessionToken: env.TENCENTCLOUD_SESSION_TOKEN || env.TENCENTCLOUD_SESSIONTOKEN,
    },
    imApiBase: e.IM_API_BASE.replace(/\/+$/, ""),
    jwt:
      e.AUTH_JWT_SECRET || e.AUTH_JWKS_URL
        ? { secret: e.AUTH_JWT_SECRET, jwksUrl: e.AUTH_JWKS_URL, issuer: e.AUTH_JWT_ISSUER, audience: e.AUTH_JWT_AUDIENCE }
        : undefined,
  };
}

let cached: Config | undefined;

/** The process's config, parsed on first use (at cold start: every function calls it at load). */
export function getConfig(): Config {
  cached ??= parseConfig(process.env);
  return cached;
}

/** Forget the cached config (tests and the local stack change env between runs). */
export function resetConfig(): void {
  cached = undefined;
}

/** Every variable the config reads (serverless.yml must pass each through). */
export const configVariableNames = Object.keys(envSchema.shape) as (keyof typeof envSchema.shape)[];
