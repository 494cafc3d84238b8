import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from "node:crypto";

/** scrypt cost: N=2^15, r=8 (32 MiB, ~0.1 s) fits a 256 MB SCF function; raise N as hardware allows. */
const params = { N: 2 ** 15, r: 8, p: 1 } as const;
const keyLengthBytes = 32;
const saltBytes = 16;

function derive(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password.normalize("NFKC"), salt, keyLengthBytes, { ...options, maxmem: 64 * 1024 * 1024 }, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
}

/** Hash with a fresh per-user salt; the parameters travel with the hash so they can be raised later. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(saltBytes);
  const key = await derive(password, salt, params);
  return ["scrypt", params.N, params.r, params.p, salt.toString("base64"), key.toString("base64")].join("$");
}

/** Constant-time check of `password` against a stored hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, key] = stored.split("$");
  if (scheme !== "scrypt" || !salt || !key) return false;
  const expected = Buffer.from(key, "base64");
  const actual = await derive(password, Buffer.from(salt, "base64"), { N: Number(n), r: Number(r), p: Number(p) });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/**
 * A hash of a password nobody knows. Logging in as an unknown user still pays for one scrypt,
 * so response time does not reveal which user ids exist.
 */
export function unknownUserHash(): Promise<string> {
  // Made on first use, not at load: cold starts of functions that never log in stay cheap.
  unknownHash ??= hashPassword(randomBytes(16).toString("hex"));
  return unknownHash;
}
let unknownHash: Promise<string> | undefined;
