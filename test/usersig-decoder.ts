import { createHmac } from "node:crypto";
import { inflateSync } from "node:zlib";

/**
 * An independent UserSig checker for tests, written from the reference (§1.3) without onair's
 * or the library's code: undo the character map, inflate, recompute the HMAC.
 */
export function checkUserSig(userSig: string, key: string) {
  const json = inflateSync(Buffer.from(userSig.replaceAll("*", "+").replaceAll("-", "/").replaceAll("_", "="), "base64")).toString();
  const doc = JSON.parse(json) as Record<string, string | number>;
  const content =
    `TLS.identifier:${doc["TLS.identifier"]}\n` +
    `TLS.sdkappid:${doc["TLS.sdkappid"]}\n` +
    `TLS.time:${doc["TLS.time"]}\n` +
    `TLS.expire:${doc["TLS.expire"]}\n`;
  const expectedSig = createHmac("sha256", key).update(content).digest("base64");
  return {
    doc,
    signatureValid: expectedSig === doc["TLS.sig"],
    expiresAtSeconds: Number(doc["TLS.time"]) + Number(doc["TLS.expire"]),
  };
}
