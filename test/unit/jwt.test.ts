import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { verifyAppJwt } from "../../shared/auth/jwt.js";

const secret = "unit-test-identity-provider-secret-0123456789";
const sign = (build: (jwt: SignJWT) => SignJWT) => build(new SignJWT({}).setProtectedHeader({ alg: "HS256" }).setSubject("alice")).sign(new TextEncoder().encode(secret));

describe("verifyAppJwt", () => {
  it("returns the subject and expiry of a good token", async () => {
    const exp = Math.floor(Date.now() / 1000) + 3600;
    const token = await sign((jwt) => jwt.setExpirationTime(exp));
    expect(await verifyAppJwt(token, { secret })).toEqual({ subject: "alice", expiresAtSeconds: exp });
  });

  it("refuses a token without exp, and one that expires more than 30 days ahead", async () => {
    await expect(verifyAppJwt(await sign((jwt) => jwt), { secret })).rejects.toThrow(/exp/);
    await expect(verifyAppJwt(await sign((jwt) => jwt.setExpirationTime(1e13)), { secret })).rejects.toThrow(/exp/);
  });

  it("checks issuer and audience when they are configured", async () => {
    const token = await sign((jwt) => jwt.setExpirationTime("1h").setIssuer("https://id.example.com").setAudience("onair"));
    await expect(verifyAppJwt(token, { secret, issuer: "https://id.example.com", audience: "onair" })).resolves.toMatchObject({ subject: "alice" });
    await expect(verifyAppJwt(token, { secret, issuer: "https://evil.example.com" })).rejects.toThrow(/iss/);
    await expect(verifyAppJwt(token, { secret, audience: "another-app" })).rejects.toThrow(/aud/);
  });

  it("refuses a token signed with another key", async () => {
    const token = await sign((jwt) => jwt.setExpirationTime("1h"));
    await expect(verifyAppJwt(token, { secret: secret + "x" })).rejects.toThrow();
  });
});
