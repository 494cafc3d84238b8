import { describe, expect, it } from "vitest";
import { secretsEqual, signCssCallback, signImCallback, signTrtcCallback, verifyCssCallback, verifyImCallback, verifyTrtcCallback } from "../../shared/signatures/index.js";

describe("callback signatures (reference vectors)", () => {
  it("IM: hex SHA-256 of token + RequestTime, within 60 s, right SdkAppid", () => {
    expect(signImCallback("xxxxyyyy", 1669872112).Sign).toBe("17773bc39a671d7b9aa835458704d2a6db81360a5940292b587d6d760d484061");
    expect(signImCallback("myImToken", 1700000000).Sign).toBe("9fa8fd1d47cdb73a8485d07a92538c1264cd3c44f880c025af7363bcf52daab8");
    const query = { SdkAppid: "1400000000", ...signImCallback("myImToken", 1700000000) };
    const expected = { sdkAppId: 1400000000, token: "myImToken" };
    expect(verifyImCallback(query, expected, 1700000030)).toEqual({ ok: true });
    expect(verifyImCallback(query, expected, 1700000061).ok).toBe(false);
    expect(verifyImCallback({ ...query, SdkAppid: "1400000001" }, expected, 1700000000).ok).toBe(false);
    expect(verifyImCallback({ ...query, Sign: query.Sign.replace(/.$/, "0") }, expected, 1700000000).ok).toBe(false);
    expect(verifyImCallback({ SdkAppid: "1400000000" }, expected, 1700000000).ok).toBe(false);
  });

  it("CSS: hex MD5(key + t), refused once t has passed", () => {
    expect(signCssCallback("myLiveCallbackKey", 1700000600)).toBe("c99c2875a8a5bc0845b326b4d8e669e9");
    const body = { sign: "c99c2875a8a5bc0845b326b4d8e669e9", t: 1700000600 };
    expect(verifyCssCallback(body, "myLiveCallbackKey", 1700000000)).toEqual({ ok: true });
    expect(verifyCssCallback(body, "myLiveCallbackKey", 1700000601).ok).toBe(false);
    expect(verifyCssCallback(body, "otherKey", 1700000000).ok).toBe(false);
    expect(verifyCssCallback({ t: 1700000600 }, "myLiveCallbackKey", 1700000000).ok).toBe(false);
  });

  it("TRTC: base64 HMAC-SHA256 of the raw body", () => {
    const raw = '{"EventGroupId":1,"EventType":103,"CallbackTs":1700000000123,"EventInfo":{"RoomId":12345,"EventTs":1700000000,"EventMsTs":1700000000120,"UserId":"alice","Role":20,"TerminalType":3,"UserType":3,"Reason":1}}';
    expect(signTrtcCallback("myTrtcCallbackKey", raw)).toBe("f2oY1QKextm07bGPMySzWeOXSkr2ke27ayapgmxfQq8=");
    expect(verifyTrtcCallback(raw, "f2oY1QKextm07bGPMySzWeOXSkr2ke27ayapgmxfQq8=", "myTrtcCallbackKey")).toEqual({ ok: true });
    expect(verifyTrtcCallback(raw.replace("alice", "mallory"), "f2oY1QKextm07bGPMySzWeOXSkr2ke27ayapgmxfQq8=", "myTrtcCallbackKey").ok).toBe(false);
    expect(verifyTrtcCallback(raw, undefined, "myTrtcCallbackKey").ok).toBe(false);
  });

  it("compares secrets in constant time, whatever the lengths", () => {
    expect(secretsEqual("admin-key", "admin-key")).toBe(true);
    expect(secretsEqual("admin-kez", "admin-key")).toBe(false);
    expect(secretsEqual("short", "admin-key")).toBe(false);
    expect(secretsEqual(undefined, "admin-key")).toBe(false);
  });
});
