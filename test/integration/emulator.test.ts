import { describe, expect, it } from "vitest";
import { getConfig } from "../../shared/config/index.js";
import { createCloudClients, ImClient, isTencentError, UserSigSigner, cloudCall } from "../../shared/tencent/index.js";

// The emulator must refuse what Tencent Cloud refuses, or onair's signing bugs would pass locally.
const config = getConfig();
const im = (overrides: { key?: string; admin?: string; sdkAppId?: number } = {}) =>
  new ImClient({
    baseUrl: config.imApiBase,
    sdkAppId: overrides.sdkAppId ?? config.sdkAppId,
    adminUser: overrides.admin ?? config.imAdminUser,
    signer: new UserSigSigner(overrides.sdkAppId ?? config.sdkAppId, overrides.key ?? config.userSigKey),
  });

async function imError(client: ImClient): Promise<string> {
  try {
    await client.accountImport("emulator_check");
    return "ok";
  } catch (error) {
    return isTencentError(error) ? error.code : String(error);
  }
}

describe("emulator authentication", () => {
  it("accepts the admin's UserSig and refuses a forged one, a non-admin and a wrong SDKAppID", async () => {
    expect(await imError(im())).toBe("ok");
    expect(await imError(im({ key: "not-the-right-key-0123456789" }))).toBe("70003");
    expect(await imError(im({ admin: "emulator_check" }))).toBe("60010");
    expect(await imError(im({ sdkAppId: config.sdkAppId + 1 }))).toBe("60006");
  });

  it("checks TC3 signatures of the real SDK: right key passes, wrong key fails", async () => {
    const good = createCloudClients(config);
    const result = await cloudCall("DescribeLiveStreamOnlineList", async () => (await good.live()).DescribeLiveStreamOnlineList({ PageSize: 10 }));
    expect(result.TotalNum).toEqual(expect.any(Number));
    const forged = createCloudClients({ tencentCloud: { ...config.tencentCloud, secretKey: "a-wrong-secret-key" } });
    await expect(cloudCall("DescribeLiveStreamOnlineList", async () => (await forged.live()).DescribeLiveStreamOnlineList({ PageSize: 10 }))).rejects.toMatchObject({
      name: "TencentError",
      code: "AuthFailure.SignatureFailure",
    });
    const unknown = createCloudClients({ tencentCloud: { ...config.tencentCloud, secretId: "AKIDunknown" } });
    await expect(cloudCall("DismissRoom", async () => (await unknown.trtc()).DismissRoom({ SdkAppId: config.sdkAppId, RoomId: 1 }))).rejects.toMatchObject({
      code: "AuthFailure.SecretIdNotFound",
    });
  });
});
