import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig, renamedVariableWarnings, roleCredentials } from "../../shared/config/index.js";
import { localSecrets } from "../../shared/config/local-secrets.js";

const valid = {
  TENCENT_SDKAPPID: "1400000000",
  TENCENT_SECRET_KEY: "a-usersig-key-that-is-long",
  IM_CALLBACK_TOKEN: "im-callback-token",
  CSS_CALLBACK_KEY: "css-callback-key",
  TRTC_CALLBACK_KEY: "trtcCallbackKey1",
  CSS_PUSH_KEY: "css-push-key",
  CSS_PUSH_DOMAIN: "push.example.com",
  CSS_PLAY_DOMAIN: "play.example.com",
  ONAIR_ADMIN_KEY: "admin-key-0123456789",
  VOD_CALLBACK_TOKEN: "vod-callback-token",
  DYNAMODB_REGION: "ap-southeast-1",
  AWS_ACCESS_KEY_ID: "AKIAEXAMPLE",
  AWS_SECRET_ACCESS_KEY: "aws-secret",
  TENCENT_API_SECRET_ID: "AKIDexample",
  TENCENT_API_SECRET_KEY: "api-secret-key",
};
const role = { TENCENTCLOUD_SECRETID: "AKIDrole", TENCENTCLOUD_SECRETKEY: "rolekey", TENCENTCLOUD_SESSIONTOKEN: "tok" };

describe("config", () => {
  it("applies the documented defaults", () => {
    const config = parseConfig(valid);
    expect(config).toMatchObject({
      sdkAppId: 1400000000,
      imAdminUser: "administrator",
      heartbeatIntervalSeconds: 10,
      roomStaleSeconds: 30,
      userSigTtlSeconds: 86400,
      dynamodb: { table: "onair" },
      imApiBase: "https://console.tim.qq.com",
    });
    expect(config.jwt).toBeUndefined();
  });

  it("names every missing and malformed variable in one error", () => {
    const { TENCENT_SDKAPPID: _, CSS_PUSH_KEY: __, ...rest } = valid;
    let caught: unknown;
    try {
      parseConfig({ ...rest, HEARTBEAT_INTERVAL_SECONDS: "soon", DYNAMODB_ENDPOINT: "not a url" });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const { problems, message } = caught as ConfigError;
    expect(problems).toEqual(
      expect.arrayContaining([
        "TENCENT_SDKAPPID is missing",
        "CSS_PUSH_KEY is missing",
        expect.stringMatching(/^HEARTBEAT_INTERVAL_SECONDS /),
        expect.stringMatching(/^DYNAMODB_ENDPOINT /),
      ]),
    );
    expect(problems).toHaveLength(4);
    expect(message).toContain("TENCENT_SDKAPPID is missing");
  });

  it("says what each malformed value must be", () => {
    const problems = (env: Record<string, string>) => {
      try {
        parseConfig({ ...valid, ...env });
        return [];
      } catch (error) {
        return (error as ConfigError).problems;
      }
    };
    expect(problems({ MAX_COHOSTS: "9", HEARTBEAT_INTERVAL_SECONDS: "0", TENCENT_SDKAPPID: "1.5", TRTC_TICKET_TTL_SECONDS: "twenty" })).toEqual([
      "TENCENT_SDKAPPID must be an integer",
      "HEARTBEAT_INTERVAL_SECONDS must be a positive integer",
      "TRTC_TICKET_TTL_SECONDS must be an integer",
      "MAX_COHOSTS must be from 1 to 8",
    ]);
    // Past 2^53 a number is still an integer to Number, just too big: the message says so.
    expect(problems({ MAX_COHOSTS: "9007199254740992", TENCENT_SDKAPPID: "1e21" })).toEqual(["TENCENT_SDKAPPID must be at most 9007199254740991", "MAX_COHOSTS must be from 1 to 8"]);
    expect(problems({ DOCS_ENABLED: "yes", CSS_PUSH_DOMAIN: "https://push.example.com", IM_ADMIN_USER: "ops admin", DYNAMODB_TABLE: "t" })).toEqual([
      "IM_ADMIN_USER must be an IM user id (1-32 letters, digits, _ or -)",
      "CSS_PUSH_DOMAIN must be a host name",
      "DOCS_ENABLED must be true or false",
      "DYNAMODB_TABLE must be a DynamoDB table name (3-255 letters, digits, _, . or -)",
    ]);
    // Only http(s): `new URL` also parses mailto: and javascript:, which no client here can call.
    for (const url of ["mailto:ops@example.com", "javascript:alert(1)", "http://", "https://exa mple.com", "ddb.example.com"]) {
      expect(problems({ DYNAMODB_ENDPOINT: url, IM_API_BASE: url })).toEqual(["DYNAMODB_ENDPOINT must be an http:// or https:// URL", "IM_API_BASE must be an http:// or https:// URL"]);
    }
    expect(parseConfig({ ...valid, DYNAMODB_ENDPOINT: " http://127.0.0.1:8000 ", MAX_COHOSTS: " 8 ", IM_API_BASE: "https://adminapisgp.im.qcloud.com/" })).toMatchObject({
      dynamodb: { endpoint: "http://127.0.0.1:8000" },
      maxCohosts: 8,
      imApiBase: "https://adminapisgp.im.qcloud.com",
    });
  });

  it("treats empty strings as unset", () => {
    expect(() => parseConfig({ ...valid, TENCENT_SECRET_KEY: "" })).toThrow(/TENCENT_SECRET_KEY is missing/);
    // serverless.yml passes an unset optional variable as "".
    expect(parseConfig({ ...valid, VOD_SUB_APP_ID: "" }).vodSubAppId).toBeUndefined();
  });

  it("reads the optional VOD application id, and refuses one that is not a positive integer", () => {
    expect(parseConfig({ ...valid, VOD_SUB_APP_ID: "1500000001" }).vodSubAppId).toBe(1500000001);
    expect(() => parseConfig({ ...valid, VOD_SUB_APP_ID: "vod-app" })).toThrow(/VOD_SUB_APP_ID/);
  });

  it("accepts the execution role's credentials in place of explicit API keys, and names both keys when neither is there", () => {
    const { TENCENT_API_SECRET_ID: _, TENCENT_API_SECRET_KEY: __, ...withoutKeys } = valid;
    expect(roleCredentials(role)).toEqual({ secretId: "AKIDrole", secretKey: "rolekey", token: "tok" });
    expect(() => parseConfig({ ...withoutKeys, ...role })).not.toThrow();
    expect(() => parseConfig(withoutKeys)).toThrow(/TENCENT_API_SECRET_ID and TENCENT_API_SECRET_KEY are missing/);
    expect(() => parseConfig({ ...withoutKeys, TENCENT_API_SECRET_ID: "AKIDexample" })).toThrow(/TENCENT_API_SECRET_KEY is missing/);
  });

  it("reads the old TENCENTCLOUD_ names when the new ones are unset, and warns about each", () => {
    const { TENCENT_API_SECRET_ID: _, TENCENT_API_SECRET_KEY: __, ...withoutKeys } = valid;
    const old = { TENCENTCLOUD_SECRET_ID: "AKIDold", TENCENTCLOUD_SECRET_KEY: "old-key", TENCENTCLOUD_REGION: "ap-singapore", TENCENTCLOUD_ENDPOINT: "127.0.0.1:9" };
    expect(parseConfig({ ...withoutKeys, ...old }).tencentCloud).toEqual({ region: "ap-singapore", endpoint: "127.0.0.1:9", secretId: "AKIDold", secretKey: "old-key", sessionToken: undefined });
    expect(renamedVariableWarnings(old)).toEqual([
      "TENCENTCLOUD_REGION is deprecated, set TENCENT_REGION instead",
      "TENCENTCLOUD_ENDPOINT is deprecated, set TENCENT_API_ENDPOINT instead",
      "TENCENTCLOUD_SECRET_ID is deprecated, set TENCENT_API_SECRET_ID instead",
      "TENCENTCLOUD_SECRET_KEY is deprecated, set TENCENT_API_SECRET_KEY instead",
    ]);
    expect(parseConfig({ ...valid, TENCENTCLOUD_REGION: "ap-singapore", TENCENT_REGION: "ap-tokyo" }).tencentCloud.region).toBe("ap-tokyo");
  });

  it("requires a real AWS region for DynamoDB unless an endpoint is set", () => {
    const { DYNAMODB_REGION: _, ...noRegion } = valid;
    expect(() => parseConfig(noRegion)).toThrow(/DYNAMODB_REGION is missing/);
    expect(() => parseConfig({ ...valid, DYNAMODB_REGION: "ap-guangzhou" })).toThrow(/DYNAMODB_REGION must be an AWS region/);
    expect(() => parseConfig({ ...valid, DYNAMODB_REGION: "ap-guangzhou-3" })).toThrow(/DYNAMODB_REGION must be an AWS region/);
    for (const region of ["ap-southeast-1", "cn-north-1", "us-gov-west-1", "eu-central-2", "mx-central-1"]) expect(parseConfig({ ...valid, DYNAMODB_REGION: region }).dynamodb.region).toBe(region);
    expect(parseConfig({ ...valid, DYNAMODB_REGION: "cn-north-1" }).dynamodb.region).toBe("cn-north-1");
    // An endpoint (DynamoDB Local, a compatible service) signs with whatever region it names.
    expect(parseConfig({ ...noRegion, DYNAMODB_ENDPOINT: "http://127.0.0.1:8000" }).dynamodb).toEqual({ endpoint: "http://127.0.0.1:8000", region: "us-east-1", table: "onair" });
    expect(parseConfig({ ...valid, DYNAMODB_ENDPOINT: "https://ddb.example.com", DYNAMODB_REGION: "ap-guangzhou" }).dynamodb.region).toBe("ap-guangzhou");
  });

  it("uses the configured AWS keys even with an endpoint, and names them when missing", () => {
    expect(parseConfig({ ...valid, DYNAMODB_ENDPOINT: "https://ddb.example.com" }).awsCredentials).toEqual({ accessKeyId: "AKIAEXAMPLE", secretAccessKey: "aws-secret", sessionToken: undefined });
    const { AWS_ACCESS_KEY_ID: _, AWS_SECRET_ACCESS_KEY: __, ...noKeys } = valid;
    expect(() => parseConfig(noKeys)).toThrow(/AWS_ACCESS_KEY_ID is missing; AWS_SECRET_ACCESS_KEY is missing/);
  });

  it("with a function's fields, reads only their variables and refuses to hand out any other field", () => {
    const config = parseConfig({ TENCENT_SDKAPPID: "1400000000", TENCENT_SECRET_KEY: "a-usersig-key-that-is-long" }, ["sdkAppId", "userSigKey"]);
    expect(config.sdkAppId).toBe(1400000000);
    expect(() => config.cssPushKey).toThrow(/config.cssPushKey is not in this function's configuration.*CSS_PUSH_KEY/);
    expect(() => parseConfig({}, ["dynamodb", "sdkAppId"])).toThrow(/TENCENT_SDKAPPID is missing; DYNAMODB_REGION is missing/);
  });

  it("refuses two JWT modes at once", () => {
    expect(() => parseConfig({ ...valid, AUTH_JWT_SECRET: "x".repeat(32), AUTH_JWKS_URL: "https://id.example.com/jwks" })).toThrow(/not both/);
  });

  it("refuses the local stack's public secrets outside the local stack, naming each", () => {
    const problems = (() => {
      try {
        parseConfig({ ...valid, ...localSecrets });
      } catch (error) {
        return (error as ConfigError).problems;
      }
    })();
    expect(problems?.sort()).toEqual(Object.keys(localSecrets).map((name) => `${name} is the local stack's public default; set a secret of your own`).sort());
    expect(() => parseConfig({ ...valid, ONAIR_ADMIN_KEY: localSecrets.ONAIR_ADMIN_KEY })).toThrow(/ONAIR_ADMIN_KEY is the local stack's public default/);
    expect(() => parseConfig({ ...valid, ONAIR_ADMIN_KEY: `${localSecrets.ONAIR_ADMIN_KEY.toUpperCase()} ` })).toThrow(/ONAIR_ADMIN_KEY is the local stack's public default/);
    expect(parseConfig({ ...valid, ...localSecrets, ONAIR_STACK: "local" }).adminKey).toBe(localSecrets.ONAIR_ADMIN_KEY);
  });

  it("refuses .env.example's placeholders anywhere, naming each", () => {
    expect(() => parseConfig({ ...valid, ONAIR_STACK: "local", ONAIR_ADMIN_KEY: "replace-with-at-least-32-random-characters", CSS_PUSH_KEY: "Replace-With-the-push-key" })).toThrow(
      /ONAIR_ADMIN_KEY is still the .env.example placeholder.*CSS_PUSH_KEY is still the .env.example placeholder|CSS_PUSH_KEY is still the .env.example placeholder.*ONAIR_ADMIN_KEY/,
    );
  });

  it("lists every IM admin account, the configured one first", () => {
    expect(parseConfig(valid).imAdminUsers).toEqual(["administrator"]);
    expect(parseConfig({ ...valid, IM_ADMIN_USER: "ops", IM_ADMIN_USERS: "admin2, root_im" }).imAdminUsers).toEqual(["ops", "admin2", "root_im"]);
    expect(() => parseConfig({ ...valid, IM_ADMIN_USERS: "a b" })).toThrow(/IM_ADMIN_USERS/);
  });

  it("lets no browser origin in unless listed, and refuses what is not an origin", () => {
    expect(parseConfig(valid).corsOrigins).toEqual([]);
    expect(parseConfig({ ...valid, CORS_ORIGINS: "https://app.example.com, http://localhost:5173" }).corsOrigins).toEqual(["https://app.example.com", "http://localhost:5173"]);
    expect(() => parseConfig({ ...valid, CORS_ORIGINS: "https://app.example.com/path" })).toThrow(/CORS_ORIGINS/);
  });
});
