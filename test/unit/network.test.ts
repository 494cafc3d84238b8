import { describe, expect, it } from "vitest";
import { networkOf } from "../../shared/auth/accounts.js";

describe("networkOf (the unit login and sign-up limits count by)", () => {
  it("keeps an IPv4 address as it is", () => {
    expect(networkOf("203.0.113.7")).toBe("203.0.113.7");
  });

  it("folds every IPv6 address of one /64 into it, however it is written", () => {
    const prefix = "2001:db8:ab:cd::/64";
    expect(networkOf("2001:db8:ab:cd:1:2:3:4")).toBe(prefix);
    expect(networkOf("2001:0db8:00ab:00cd:ffff::1")).toBe(prefix);
    expect(networkOf("2001:DB8:AB:CD::")).toBe(prefix);
    expect(networkOf("2001:db8:ab:ce::1")).not.toBe(prefix);
    expect(networkOf("::1")).toBe("0:0:0:0::/64");
  });

  it("gives events without an address one shared allowance", () => {
    expect(networkOf(undefined)).toBe("unknown");
  });
});
