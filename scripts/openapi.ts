/**
 * The OpenAPI document without a running stack: each HTTP function's app is built with the
 * local configuration (no request is made), and their routes are merged as the local stack
 * serves them at `/openapi.json`. The client generates its types from this file.
 *
 *   npm run openapi -- client/openapi.json
 */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createImCallbackApp } from "../functions/im-callback/app.js";
import { createLiveCallbackApp } from "../functions/live-callback/app.js";
import { createRoomsApp } from "../functions/rooms/app.js";
import { createUserSigApp } from "../functions/usersig/app.js";
import { createWalletApp } from "../functions/wallet/app.js";
import { parseConfig } from "../shared/config/index.js";
import { createDb } from "../shared/db/index.js";
import { createTencentDeps } from "../shared/tencent/index.js";
import { createVodMedia } from "../shared/tencent/vod.js";
import { localEnvDefaults } from "./local/env.js";
import { buildOpenApiDocument } from "./local/openapi.js";

/** The default server URL: the local stack's default port. */
export const defaultBaseUrl = "http://127.0.0.1:3000";

export function offlineOpenApiDocument(baseUrl = defaultBaseUrl) {
  // Nothing is called: the endpoint only has to be well-formed.
  const config = parseConfig({ ...localEnvDefaults({ port: 3000, emulatorPort: 3001 }), DYNAMODB_ENDPOINT: "http://127.0.0.1:8000" });
  const deps = { db: createDb(config), config, tencent: createTencentDeps(config) };
  return buildOpenApiDocument(
    [
      { name: "usersig", app: createUserSigApp(deps) },
      { name: "wallet", app: createWalletApp(deps) },
      { name: "rooms", app: createRoomsApp(deps) },
      { name: "im-callback", app: createImCallbackApp(deps) },
      { name: "live-callback", app: createLiveCallbackApp({ ...deps, vod: createVodMedia(config) }) },
    ],
    baseUrl,
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = process.argv[2] ?? "openapi.json";
  writeFileSync(out, `${JSON.stringify(offlineOpenApiDocument(), null, 2)}\n`);
  console.log(`wrote ${out}`);
}
