import { describe, expect, it } from "vitest";
import { tc3Signature, verifyTc3 } from "../../scripts/emulator/tc3.js";

// Reference §8.4 test vectors.
const body = '{"SdkAppId":1400000000,"RoomId":1234}';
const secrets = { AKIDEXAMPLE: "exampleSecretKey" };

describe("TC3-HMAC-SHA256 (emulator)", () => {
  it("matches the reference vectors for a real host and a loopback endpoint", () => {
    expect(tc3Signature({ secretKey: "exampleSecretKey", service: "trtc", hostname: "trtc.tencentcloudapi.com", timestamp: 1700000000, body })).toBe(
      "5d5453efad67484575b71bf6bfdf704e7740a864c70d031e37e669b5d5ad5cc7",
    );
    expect(tc3Signature({ secretKey: "exampleSecretKey", service: "127", hostname: "127.0.0.1", timestamp: 1700000000, body })).toBe(
      "d917acb48ef58377cf4c3843c472b5ea86e8fe46744f0893597eda4ac05c714a",
    );
  });

  const headers = (signature: string, overrides: Record<string, string> = {}) => ({
    authorization: `TC3-HMAC-SHA256 Credential=AKIDEXAMPLE/2023-11-14/127/tc3_request, SignedHeaders=content-type;host, Signature=${signature}`,
    host: "127.0.0.1:9000",
    "x-tc-timestamp": "1700000000",
    "x-tc-action": "DismissRoom",
    ...overrides,
  });
  const good = "d917acb48ef58377cf4c3843c472b5ea86e8fe46744f0893597eda4ac05c714a";

  it("accepts a good request, reading the service from the scope and the host without port", () => {
    expect(verifyTc3(headers(good), Buffer.from(body), secrets, 1700000010)).toEqual({ ok: true, secretId: "AKIDEXAMPLE", service: "127", action: "DismissRoom" });
  });

  it("takes temporary credentials only with their session token", () => {
    const tokens = { AKIDEXAMPLE: "role-session-token" };
    expect(verifyTc3(headers(good, { "x-tc-token": "role-session-token" }), Buffer.from(body), secrets, 1700000010, tokens)).toMatchObject({ ok: true });
    expect(verifyTc3(headers(good), Buffer.from(body), secrets, 1700000010, tokens)).toMatchObject({ ok: false, code: "AuthFailure.TokenFailure" });
    expect(verifyTc3(headers(good, { "x-tc-token": "another" }), Buffer.from(body), secrets, 1700000010, tokens)).toMatchObject({ ok: false, code: "AuthFailure.TokenFailure" });
  });

  it.each([
    ["a changed body", headers(good), '{"SdkAppId":1400000000,"RoomId":1235}', "AuthFailure.SignatureFailure"],
    ["an unknown secret id", headers(good, { authorization: headers(good).authorization.replace("AKIDEXAMPLE", "AKIDOTHER") }), body, "AuthFailure.SecretIdNotFound"],
    ["a stale timestamp", headers(good), body, "AuthFailure.SignatureExpire", 1700000000 + 301],
    ["no authorization", { host: "127.0.0.1" }, body, "AuthFailure.InvalidAuthorization"],
  ])("rejects %s", (_case, requestHeaders, requestBody, code, now = 1700000010) => {
    const result = verifyTc3(requestHeaders as Record<string, string>, Buffer.from(requestBody), secrets, now as number);
    expect(result).toMatchObject({ ok: false, code });
  });
});
