import { describe, expect, it } from "vitest";
import { applyDefaults, localEnvDefaults } from "../../scripts/local/env.js";

describe("local stack defaults", () => {
  it("fill what is unset, and leave a variable set under its old TENCENTCLOUD_ name to that value", () => {
    const env: NodeJS.ProcessEnv = { TENCENTCLOUD_ENDPOINT: "127.0.0.1:9999", CSS_PUSH_DOMAIN: "push.mine.example" };
    const applied = applyDefaults(env, localEnvDefaults({ port: 3000, emulatorPort: 3001 }));
    expect(env.TENCENT_API_ENDPOINT).toBeUndefined();
    expect(applied).not.toContain("TENCENT_API_ENDPOINT");
    expect(env.CSS_PUSH_DOMAIN).toBe("push.mine.example");
    expect([env.TENCENT_REGION, env.AWS_ACCESS_KEY_ID]).toEqual(["ap-guangzhou", "local"]);
  });
});
