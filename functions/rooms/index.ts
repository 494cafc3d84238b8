import { getConfig } from "../../shared/config/index.js";
import { createDb } from "../../shared/db/index.js";
import { createScfHandler } from "../../shared/http/index.js";
import { createCloudClients, ImClient, UserSigSigner } from "../../shared/tencent/index.js";
import { createRoomsApp } from "./app.js";

// Cold start: config validated and clients built once per container.
const config = getConfig();
const tencent = {
  im: new ImClient({ baseUrl: config.imApiBase, sdkAppId: config.sdkAppId, adminUser: config.imAdminUser, signer: new UserSigSigner(config.sdkAppId, config.userSigKey) }),
  cloud: createCloudClients(config),
  config,
};
export const app = createRoomsApp({ db: createDb(config), config, tencent });
export const main_handler = createScfHandler(app);
