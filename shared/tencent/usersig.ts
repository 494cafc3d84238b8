import { createHmac, timingSafeEqual } from "node:crypto";
import { inflateSync } from "node:zlib";
// Deep import: the package.json names "main" twice and bundlers pick the missing first one.
import TLSSigAPIv2 from "tls-sig-api-v2/TLSSigAPIv2.js";

export interface IssuedUserSig {
  userSig: string;
  /** Signature time + lifetime, as the signature itself states it. */
  expiresAtSeconds: number;
}

interface DecodedUserSig {
  "TLS.ver": string;
  "TLS.identifier": string;
  "TLS.sdkappid": number;
  "TLS.time": number;
  "TLS.expire": number;
  "TLS.userbuf"?: string;
  "TLS.sig": string;
}

/** Signs UserSigs for one SDKAppID with the official library. */
export class UserSigSigner {
  private readonly api: TLSSigAPIv2.Api;

  constructor(
    readonly sdkAppId: number,
    private readonly key: string,
  ) {
    this.api = new TLSSigAPIv2.Api(sdkAppId, key);
  }

  issue(userId: string, ttlSeconds: number): IssuedUserSig {
    const userSig = this.api.genUserSig(userId, ttlSeconds);
    // The library stamps its own clock; read the time back so expiresAt matches the signature.
    const decoded = decodeUserSig(userSig);
    return { userSig, expiresAtSeconds: decoded["TLS.time"] + decoded["TLS.expire"] };
  }

  /**
   * A PrivateMapKey: TRTC's per-room ticket, a UserSig whose userbuf names the room, the
   * privilege bits and the ticket's own expiry (`../shared/tencent-cloud-reference.md` §1.4).
   */
  issuePrivateMapKey(userId: string, roomId: number, privilegeMap: number, ttlSeconds: number): IssuedUserSig {
    const key = this.api.genPrivateMapKey(userId, ttlSeconds, roomId, privilegeMap);
    return { userSig: key, expiresAtSeconds: decodePrivateMapKey(key).expiresAtSeconds };
  }

  /** Check a UserSig as Tencent's services do: identity, app, HMAC, expiry. */
  verify(userSig: string, userId: string, nowSeconds = Math.floor(Date.now() / 1000)): "ok" | "invalid" | "expired" {
    let decoded: DecodedUserSig;
    try {
      decoded = decodeUserSig(userSig);
    } catch {
      return "invalid";
    }
    if (decoded["TLS.identifier"] !== userId || decoded["TLS.sdkappid"] !== this.sdkAppId) return "invalid";
    let content =
      `TLS.identifier:${decoded["TLS.identifier"]}\nTLS.sdkappid:${decoded["TLS.sdkappid"]}\n` +
      `TLS.time:${decoded["TLS.time"]}\nTLS.expire:${decoded["TLS.expire"]}\n`;
    if (decoded["TLS.userbuf"] !== undefined) content += `TLS.userbuf:${decoded["TLS.userbuf"]}\n`;
    const expected = createHmac("sha256", this.key).update(content).digest();
    const actual = Buffer.from(String(decoded["TLS.sig"]), "base64");
    if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) return "invalid";
    return nowSeconds > decoded["TLS.time"] + decoded["TLS.expire"] ? "expired" : "ok";
  }
}

/** base64 with `*-_` for `+/=`, zlib-deflated JSON. */
export function decodeUserSig(userSig: string): DecodedUserSig {
  const base64 = userSig.replace(/\*/g, "+").replace(/-/g, "/").replace(/_/g, "=");
  return JSON.parse(inflateSync(Buffer.from(base64, "base64")).toString("utf8")) as DecodedUserSig;
}

export interface PrivateMapKeyGrant {
  userId: string;
  sdkAppId: number;
  roomId: number;
  expiresAtSeconds: number;
  privilegeMap: number;
}

/** The grant inside a PrivateMapKey's userbuf (big-endian; numeric rooms only). Does not check the signature. */
export function decodePrivateMapKey(key: string): PrivateMapKeyGrant {
  const userbuf = decodeUserSig(key)["TLS.userbuf"];
  if (userbuf === undefined) throw new Error("not a PrivateMapKey: no userbuf");
  const buf = Buffer.from(userbuf, "base64");
  const accountLength = buf.readUInt16BE(1);
  let at = 3 + accountLength;
  const userId = buf.subarray(3, at).toString("utf8");
  const next = () => {
    const value = buf.readUInt32BE(at);
    at += 4;
    return value;
  };
  return { userId, sdkAppId: next(), roomId: next(), expiresAtSeconds: next(), privilegeMap: next() };
}
