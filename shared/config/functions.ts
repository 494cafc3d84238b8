import { configVariables, type Config } from "./index.js";

/**
 * The config fields each function reads, the one place that decides a function's environment:
 * its entry point validates only these at cold start, serverless.yml declares only their
 * variables, and a test checks the list against the fields its bundled code mentions.
 */
export const functionConfigFields = {
  usersig: [
    "sdkAppId", "userSigKey", "adminKey", "userSigTtlSeconds", "sessionTtlSeconds", "dynamodb", "awsCredentials", "jwt", "imAdminUsers",
    "corsOrigins", "registrationsPerIpPerHour", "docsEnabled",
  ],
  rooms: [
    "sdkAppId", "userSigKey", "imAdminUser", "cssPushKey", "cssPushDomain", "cssPlayDomain", "adminKey", "heartbeatIntervalSeconds",
    "roomStaleSeconds", "createdRoomTtlSeconds", "cohostInviteTtlSeconds", "maxCohosts", "pushUrlTtlSeconds", "recordingEnabled",
    "recordingMaxFileMinutes", "vodSubAppId", "dynamodb", "awsCredentials", "tencentCloud", "imApiBase", "jwt", "imAdminUsers",
    "trtcTicketTtlSeconds", "corsOrigins", "broadcasts",
  ],
  wallet: [
    "sdkAppId", "userSigKey", "imAdminUser", "cssPushDomain", "adminKey", "roomStaleSeconds", "recordingMaxFileMinutes", "vodSubAppId",
    "dynamodb", "awsCredentials", "tencentCloud", "imApiBase", "jwt", "imAdminUsers", "corsOrigins", "broadcasts",
  ],
  "im-callback": [
    "sdkAppId", "userSigKey", "imAdminUser", "imCallbackToken", "cssPushKey", "cssPushDomain", "cssPlayDomain",
    "heartbeatIntervalSeconds", "roomStaleSeconds", "createdRoomTtlSeconds", "cohostInviteTtlSeconds", "maxCohosts", "pushUrlTtlSeconds",
    "recordingEnabled", "recordingMaxFileMinutes", "vodSubAppId", "dynamodb", "awsCredentials", "tencentCloud", "imApiBase",
    "trtcTicketTtlSeconds", "corsOrigins", "broadcasts",
  ],
  "live-callback": [
    "sdkAppId", "userSigKey", "imAdminUser", "cssCallbackKey", "trtcCallbackKey", "cssPushKey", "cssPushDomain", "cssPlayDomain",
    "heartbeatIntervalSeconds", "roomStaleSeconds", "createdRoomTtlSeconds", "cohostInviteTtlSeconds", "maxCohosts", "pushUrlTtlSeconds",
    "recordingEnabled", "recordingMaxFileMinutes", "vodCallbackToken", "vodSubAppId", "dynamodb", "awsCredentials", "tencentCloud",
    "imApiBase", "trtcTicketTtlSeconds", "corsOrigins", "broadcasts",
  ],
  sweeper: [
    "sdkAppId", "userSigKey", "imAdminUser", "cssPushKey", "cssPushDomain", "cssPlayDomain", "heartbeatIntervalSeconds",
    "roomStaleSeconds", "createdRoomTtlSeconds", "cohostInviteTtlSeconds", "maxCohosts", "pushUrlTtlSeconds", "recordingEnabled",
    "recordingMaxFileMinutes", "streamEndGraceSeconds", "orphanStreamGraceSeconds", "orphanScanIntervalSeconds", "vodSubAppId",
    "dynamodb", "awsCredentials", "tencentCloud", "imApiBase", "trtcTicketTtlSeconds", "broadcasts", "imAdminUsers",
  ],
} as const satisfies Record<string, readonly (keyof Config)[]>;

export type FunctionName = keyof typeof functionConfigFields;

/** The environment variables `name` reads, in config order: what serverless.yml declares for it. */
export function functionVariables(name: FunctionName): string[] {
  const fields = new Set<keyof Config>(functionConfigFields[name]);
  // Two fields may read one variable (imAdminUser and imAdminUsers both read IM_ADMIN_USER).
  return [...new Set((Object.keys(configVariables) as (keyof Config)[]).filter((field) => fields.has(field)).flatMap((field) => configVariables[field]))];
}
