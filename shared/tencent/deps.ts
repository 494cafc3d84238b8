import type { Config } from "../config/index.js";
import { createCloudClients } from "./cloud.js";
import type { TencentDeps } from "./commands.js";
import { ImClient } from "./im.js";
import { UserSigSigner } from "./usersig.js";

/** The IM and cloud API clients a function needs, built once at cold start. */
export function createTencentDeps(config: Config): TencentDeps {
  const signer = new UserSigSigner(config.sdkAppId, config.userSigKey);
  return {
    im: new ImClient({ baseUrl: config.imApiBase, sdkAppId: config.sdkAppId, adminUser: config.imAdminUser, signer }),
    cloud: createCloudClients(config),
    signer,
    config,
  };
}
