import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { InvalidAppJwtError, verifyAppJwt } from "../../shared/auth/jwt.js";

const secret = "unit-test-identity-provider-secret-0123456789";
/** A refusal is an InvalidAppJwtError (a 401 for the caller) that names its reason. */
async function expectRefused(verifying: Promise<unknown>, reason: RegExp) {
  const error = await verifying.then(() => undefined, (refusal: unknown) => refusal);
  expect(error).toBeInstanceOf(InvalidAppJwtError);
  expect((error as Error).message).toMatch(reason);
}
const sign = (build: (jwt: SignJWT) => SignJWT) => build(new SignJWT({}).setProtectedHeader({ alg: "HS256" }).setSubject("alice")).sign(new TextEncoder().encode(secret));

describe("verifyAppJwt", () => {
  it("returns the subject and expiry of a good token", async () => {
    const exp = Math.floor(Date.now() / 1000) + 3600;
    const token = await sign((jwt) => jwt.setExpirationTime(exp));
    expect(await verifyAppJwt(token, { secret })).toEqual({ subject: "alice", expiresAtSeconds: exp });
  });

  it("refuses a token without exp, and one that expires more than 30 days ahead", async () => {
    await expectRefused(verifyAppJwt(await sign((jwt) => jwt), { secret }), /exp/);
    await expectRefused(verifyAppJwt(await sign((jwt) => jwt.setExpirationTime(1e13)), { secret }), /exp/);
  });

  it("checks issuer and audience when they are configured", async () => {
    const token = await sign((jwt) => jwt.setExpirationTime("1h").setIssuer("https://id.example.com").setAudience("onair"));
    await expect(verifyAppJwt(token, { secret, issuer: "https://id.example.com", audience: "onair" })).resolves.toMatchObject({ subject: "alice" });
    await expectRefused(verifyAppJwt(token, { secret, issuer: "https://evil.example.com" }), /iss/);
    await expectRefused(verifyAppJwt(token, { secret, audience: "another-app" }), /aud/);
  });

  it("refuses a token signed with another key", async () => {
    const token = await sign((jwt) => jwt.setExpirationTime("1h"));
    await expectRefused(verifyAppJwt(token, { secret: secret + "x" }), /signature/);
  });
});
