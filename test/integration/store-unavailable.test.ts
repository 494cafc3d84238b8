import { afterEach, describe, expect, it } from "vitest";
import { canonicalJson, customElem } from "../../shared/tencent/im.js";
import { api, jwtUser, setDynamoDbFaults } from "../helpers.js";

afterEach(() => setDynamoDbFaults({}));

describe("a read DynamoDB will not answer", () => {
  it.each([["throttle"], ["lost"], ["cut"]])("answers 503 store_unavailable with Retry-After, not 500, when every attempt meets %s", async (fault) => {
    const user = await jwtUser("reader");
    await setDynamoDbFaults({ match: [`WALLET#${user.userId}`], sequence: Array(8).fill(fault) });
    const response = await api("GET", "/v1/wallet", { token: user.token });
    expect([response.status, response.body.error.code]).toEqual([503, "store_unavailable"]);
    expect(Number(response.headers.get("retry-after"))).toBeGreaterThan(0);
    await setDynamoDbFaults({});
    expect((await api("GET", "/v1/wallet", { token: user.token })).status).toBe(200);
  });
});

describe("a write DynamoDB refuses because a transaction holds the item", () => {
  it("answers 503 store_unavailable with Retry-After, not 500, and the same request goes through after", async () => {
    const host = await jwtUser("holder");
    const { roomId } = (await api("POST", "/v1/rooms", { token: host.token, body: { title: "held" } })).body as { roomId: number };
    expect((await api("POST", `/v1/rooms/${roomId}/live`, { token: host.token })).status).toBe(200);
    // The heartbeat's one write, to the room item, meets TransactionConflictException.
    await setDynamoDbFaults({ operations: ["UpdateItem"], match: [`"ROOM#${roomId}"`], sequence: ["conflict"] });
    const held = await api("POST", `/v1/rooms/${roomId}/heartbeat`, { token: host.token });
    expect([held.status, held.body.error.code]).toEqual([503, "store_unavailable"]);
    expect(Number(held.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await api("POST", `/v1/rooms/${roomId}/heartbeat`, { token: host.token })).status).toBe(200);
  });
});

describe("message data", () => {
  it("is the same text whatever order its keys come back in, so IM drops a resend", () => {
    const first = { type: "gift", giftId: "rose", count: 2, from: "alice", nested: { b: 1, a: 2 } };
    const fromDynamo = { nested: { a: 2, b: 1 }, from: "alice", count: 2, giftId: "rose", type: "gift" };
    expect(canonicalJson(first)).toBe(canonicalJson(fromDynamo));
    expect(customElem(first, "gift")).toEqual(customElem(fromDynamo, "gift"));
    expect(JSON.parse(canonicalJson(first))).toEqual(first);
  });
});
