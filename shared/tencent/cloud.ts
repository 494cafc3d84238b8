import type { Client as LiveClient } from "tencentcloud-sdk-nodejs/tencentcloud/services/live/v20180801/live_client.js";
import type { Client as TrtcClient } from "tencentcloud-sdk-nodejs/tencentcloud/services/trtc/v20190722/trtc_client.js";
import type { ClientConfig } from "tencentcloud-sdk-nodejs/tencentcloud/common/interface.js";
import { roleCredentials, type Config } from "../config/index.js";
import { lazy } from "../lazy/index.js";
import { TencentError } from "./errors.js";

/**
 * Cloud API calls (TC3-signed by the official SDK) onair makes, by product. Each client's SDK
 * module loads on its first call: most requests make none (a room read, a gift), so their
 * cold start does not load the SDK.
 */
export interface CloudClients {
  trtc(): Promise<TrtcClient>;
  live(): Promise<LiveClient>;
}

/**
 * SDK clients for TRTC and CSS. With `TENCENT_API_ENDPOINT` (e.g. the local emulator at
 * `127.0.0.1:3001`) every product is sent there over plain HTTP; otherwise the real hosts.
 */
export function createCloudClients(config: Pick<Config, "tencentCloud">): CloudClients {
  return {
    trtc: lazy(async () => new (await import("tencentcloud-sdk-nodejs/tencentcloud/services/trtc/v20190722/trtc_client.js")).Client(cloudClientConfig(config, "trtc"))),
    live: lazy(async () => new (await import("tencentcloud-sdk-nodejs/tencentcloud/services/live/v20180801/live_client.js")).Client(cloudClientConfig(config, "live"))),
  };
}

/** SDK client settings for one product (`trtc`, `live`, `vod`). */
export function cloudClientConfig(config: Pick<Config, "tencentCloud">, product: string): ClientConfig {
  const { region, endpoint, secretId, secretKey, sessionToken } = config.tencentCloud;
  return {
    // The execution role's credentials are temporary: read them per call, not once at cold start.
    credential: { getCredential: async () => roleCredentials(process.env) ?? { secretId, secretKey, token: sessionToken } },
    region,
    profile: {
      httpProfile: {
        endpoint: endpoint ?? `${product}.tencentcloudapi.com`,
        protocol: endpoint ? "http://" : "https://",
        reqTimeout: 5,
      },
    },
  };
}

/** Run an SDK call, turning its exception into a `TencentError` with the API's code. */
export async function cloudCall<T>(action: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new TencentError(action, code || "network", (error as Error).message, { cause: error });
  }
}
