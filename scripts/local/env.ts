import { renamedVariables } from "../../shared/config/index.js";
import { localSecrets, localStackMarker } from "../../shared/config/local-secrets.js";

/**
 * Local defaults for every variable the functions read. They are for the local stack only
 * (printed at start); a deployment sets its own in serverless.yml / the SCF console.
 */
export function localEnvDefaults(ports: { port: number; emulatorPort: number }): Record<string, string> {
  const emulator = `127.0.0.1:${ports.emulatorPort}`;
  return {
    ...localSecrets,
    // Lets the configuration accept the public secrets above; never set it in a deployment.
    [localStackMarker.name]: localStackMarker.value,
    TENCENT_SDKAPPID: "1400000000",
    IM_ADMIN_USER: "administrator",
    CSS_PUSH_DOMAIN: "push.onair.local",
    CSS_PLAY_DOMAIN: "play.onair.local",
    HEARTBEAT_INTERVAL_SECONDS: "10",
    ROOM_STALE_SECONDS: "30",
    USERSIG_TTL_SECONDS: "86400",
    SWEEP_INTERVAL_SECONDS: "5",
    RECORDING_ENABLED: "true",
    ORPHAN_SCAN_INTERVAL_SECONDS: "5",
    DYNAMODB_TABLE: "onair",
    // DynamoDB Local takes any keys; only the local stack gets dummies.
    AWS_ACCESS_KEY_ID: "local",
    AWS_SECRET_ACCESS_KEY: "local",
    TENCENT_API_SECRET_ID: "AKIDlocalonair",
    TENCENT_API_SECRET_KEY: "local-tencentcloud-secret-key",
    TENCENT_REGION: "ap-guangzhou",
    TENCENT_API_ENDPOINT: emulator,
    IM_API_BASE: `http://${emulator}`,
  };
}

/** Fill unset variables of `env` with `defaults`; returns the names that took a default. */
export function applyDefaults(env: NodeJS.ProcessEnv, defaults: Record<string, string>): string[] {
  const applied: string[] = [];
  // A variable set under its old name (TENCENTCLOUD_ENDPOINT…) keeps that value: the config reads it.
  const setUnderOldName = new Set(Object.entries(renamedVariables).filter(([old]) => env[old]).map(([, name]) => name as string));
  for (const [name, value] of Object.entries(defaults)) {
    if ((env[name] === undefined || env[name] === "") && !setUnderOldName.has(name)) {
      env[name] = value;
      applied.push(name);
    }
  }
  return applied;
}
