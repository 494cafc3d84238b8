import { describe, expect, it } from "vitest";
import { aggregate, maxMessageBytes, priorityOf, type PendingGift } from "../../shared/broadcasts/index.js";
import { canonicalJson } from "../../shared/tencent/index.js";

const gift = (n: number, from: string, giftId: string, count: number, value: number): PendingGift => ({ giftKey: `k${n}`, from, giftId, count, value, createdAt: 1_000 + n });

describe("aggregated gift messages", () => {
  it("merges the same sender's same gift into one combo, biggest value first", () => {
    const pending = [gift(1, "alice", "rose", 1, 1), gift(2, "bob", "castle", 1, 1000), gift(3, "alice", "rose", 3, 3), gift(4, "alice", "heart", 1, 5)];
    const { message, taken } = aggregate(7, pending);
    expect(message).toEqual({
      type: "gifts",
      roomId: 7,
      gifts: [
        { from: "bob", giftId: "castle", count: 1, value: 1000 },
        { from: "alice", giftId: "heart", count: 1, value: 5 },
        { from: "alice", giftId: "rose", count: 4, value: 4 },
      ],
    });
    expect(taken).toHaveLength(4);
  });

  it("stops at the message size limit, oldest gifts first, and leaves the rest for the next message", () => {
    const pending = Array.from({ length: 400 }, (_, n) => gift(399 - n, `sender_with_a_long_name_${n}`, "rose", 1, 1));
    const { message, taken } = aggregate(7, pending);
    expect(Buffer.byteLength(JSON.stringify(canonicalJson(message)))).toBeLessThanOrEqual(maxMessageBytes + 2);
    expect(taken.length).toBeGreaterThan(50);
    expect(taken.length).toBeLessThan(400);
    expect(taken.map((g) => g.createdAt)).toEqual([...taken.map((g) => g.createdAt)].sort((a, b) => a - b));
    expect(Math.max(...taken.map((g) => g.createdAt))).toBeLessThan(Math.min(...pending.filter((g) => !taken.includes(g)).map((g) => g.createdAt)));
  });

  it("is High when one billed gift reaches the configured value, else Normal", () => {
    expect(priorityOf([gift(1, "a", "rose", 99, 99), gift(2, "b", "rocket", 9, 900)], 1000)).toBe("Normal");
    expect(priorityOf([gift(1, "a", "rose", 1, 1), gift(2, "b", "castle", 1, 1000)], 1000)).toBe("High");
  });
});
