import { describe, expect, it } from "vitest";
import { decodeUserSig, UserSigSigner } from "../../shared/tencent/index.js";
import { checkUserSig } from "../usersig-decoder.js";

const key = "example-secret-key-0123456789abcdef";
// Reference §1.2 test vector (alice, 1400000000, time 1700000000, expire 86400).
const referenceSig =
  "eJyrVgrxCdYrSy1SslIy0jNQ0gHzM1NS80oy0zLBwok5mcmpUInilOzEgoLMFCUrQxMDKIDIlGTmpipZGZqjiqZWFGQWpSpZWZiZwISKM9OVrJS8o8rMTIoiHcOCC8qKsxItPXNCfCosM5JNq3Jzqkq93SujgkLKIgKMCtNCbZVqAZxlMZo_";

describe("UserSig", () => {
  it("decodes the reference vector and its HMAC checks out", () => {
    const checked = checkUserSig(referenceSig, key);
    expect(checked.signatureValid).toBe(true);
    expect(checked.doc["TLS.sig"]).toBe("KZv64rYAVSpvsja9IlTLx9hc5zmlzuKGyZRTvXP2qfU=");
    expect(decodeUserSig(referenceSig)["TLS.identifier"]).toBe("alice");
  });

  it("issues a signature an independent decoder accepts, with expiresAt = time + expire", () => {
    const before = Math.floor(Date.now() / 1000);
    const issued = new UserSigSigner(1400000000, key).issue("bob_1", 3600);
    const checked = checkUserSig(issued.userSig, key);
    expect(checked.signatureValid).toBe(true);
    expect(checked.doc).toMatchObject({ "TLS.identifier": "bob_1", "TLS.sdkappid": 1400000000, "TLS.expire": 3600, "TLS.ver": "2.0" });
    expect(issued.expiresAtSeconds).toBe(checked.expiresAtSeconds);
    expect(Number(checked.doc["TLS.time"])).toBeGreaterThanOrEqual(before);
  });

  it("verifies as the service would: wrong user, wrong app, wrong key, expired", () => {
    const signer = new UserSigSigner(1400000000, key);
    const { userSig } = signer.issue("carol", 60);
    expect(signer.verify(userSig, "carol")).toBe("ok");
    expect(signer.verify(userSig, "mallory")).toBe("invalid");
    expect(new UserSigSigner(1400000001, key).verify(userSig, "carol")).toBe("invalid");
    expect(new UserSigSigner(1400000000, "another-key-0123456789").verify(userSig, "carol")).toBe("invalid");
    expect(signer.verify(userSig, "carol", Math.floor(Date.now() / 1000) + 120)).toBe("expired");
    expect(signer.verify("not-a-usersig", "carol")).toBe("invalid");
  });
});
