import { createHash, createHmac } from "node:crypto";
import { SignatureV4 } from "@smithy/signature-v4";
import { describe, expect, it } from "vitest";
import { signedDynamoDbHeaders } from "../../shared/db/document.js";

/** node:crypto as the signer's hash (an HMAC when given a key), as the SDK's own (`@smithy/hash-node`) is. */
class Sha256 {
  private readonly hash;
  constructor(key?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = key === undefined ? createHash("sha256") : createHmac("sha256", typeof key === "string" ? key : ArrayBuffer.isView(key) ? Buffer.from(key.buffer, key.byteOffset, key.byteLength) : Buffer.from(key));
  }
  update(data: string | Uint8Array) {
    this.hash.update(data);
  }
  async digest() {
    return new Uint8Array(this.hash.digest());
  }
}

describe("DynamoDB request signing", () => {
  const body = JSON.stringify({ TableName: "onair", Key: { pk: { S: "ROOM#1" }, sk: { S: "ROOM" } } });

  for (const [name, url, credentials] of [
    ["the regional endpoint", "https://dynamodb.us-east-1.amazonaws.com/", { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" }],
    ["a local endpoint with a session token", "http://127.0.0.1:8000/", { accessKeyId: "local", secretAccessKey: "local", sessionToken: "token-EXAMPLE" }],
    ["a session token pasted with stray whitespace", "https://dynamodb.ap-southeast-1.amazonaws.com/", { accessKeyId: "AKID", secretAccessKey: "secret", sessionToken: " token  with\tspaces " }],
  ] as const) {
    it(`signs as the SDK's SignatureV4 does: ${name}`, async () => {
      const date = new Date("2026-11-25T18:00:05.123Z");
      const ours = signedDynamoDbHeaders({ url: new URL(url), region: "us-east-1", operation: "GetItem", body, credentials, date });
      const { authorization, "content-length": contentLength, ...unsigned } = ours;
      // As the DynamoDB client builds its signer: the defaults, so the payload hash is sent too.
      const sdk = new SignatureV4({ service: "dynamodb", region: "us-east-1", credentials, sha256: Sha256 });
      const parsed = new URL(url);
      const signed = await sdk.sign(
        { method: "POST", protocol: parsed.protocol, hostname: parsed.hostname, port: parsed.port ? Number(parsed.port) : undefined, path: "/", query: {}, headers: { ...unsigned }, body },
        { signingDate: date },
      );
      expect(authorization).toBe(signed.headers.authorization);
      expect(contentLength).toBe(String(Buffer.byteLength(body)));
    });
  }
});
