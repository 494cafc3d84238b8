import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { functionForPath } from "../../scripts/functions.js";

// docs/deploy.md tells operators how to route one domain to the Function URLs; its nginx rules
// must send every path to the function the local stack (and each function's router) serves it from.
const doc = readFileSync(join(import.meta.dirname, "../../docs/deploy.md"), "utf8");
const rules = [...doc.matchAll(/^location ~ (\S+)\s+\{ proxy_pass https:\/\/(\w+)_URL_HOST;/gm)].map(([, pattern, host]) => ({
  pattern: new RegExp(pattern!),
  fn: host!.toLowerCase().replace(/_/g, "-"),
}));
const routeOf = (path: string) => rules.find((rule) => rule.pattern.test(path))?.fn;

describe("docs/deploy.md single-domain rules", () => {
  it.each([
    "/v1/accounts", "/v1/sessions", "/v1/sessions/current", "/v1/usersig",
    "/v1/rooms", "/v1/rooms/100001", "/v1/rooms/100001/close", "/v1/rooms/100001/members/me", "/v1/rooms/100001/recordings", "/v1/replays",
    "/v1/rooms/100001/leaderboard", "/v1/gifts", "/v1/wallet", "/v1/wallet/ledger", "/v1/wallet/gifts", "/v1/admin/wallets/alice/credits",
    "/v1/admin/outbox/dead", "/v1/admin/outbox/e1/retry",
    "/v1/callbacks/im", "/v1/callbacks/live", "/v1/callbacks/trtc", "/v1/callbacks/vod",
  ])("send %s where the stack serves it", (path) => {
    expect(rules).toHaveLength(6);
    expect(routeOf(path)).toBe(functionForPath(path)?.name);
  });
});

describe("docs/deploy.md CAM policy", () => {
  it("allows exactly the cloud API actions the code calls", () => {
    const policy = /"version": "2\.0",\s*"statement": \[\s*\{\s*"effect": "allow",\s*"action": \[([^\]]+)\]/.exec(doc);
    expect(policy).not.toBeNull();
    const allowed = [...policy![1]!.matchAll(/"\w+:(\w+)"/g)].map(([, action]) => action!).sort();
    const called = new Set<string>();
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (path.endsWith(".ts")) for (const [, action] of readFileSync(path, "utf8").matchAll(/cloudCall\("(\w+)"/g)) called.add(action!);
      }
    };
    for (const dir of ["shared", "functions"]) walk(join(import.meta.dirname, "../..", dir));
    expect(called.size).toBeGreaterThan(5);
    expect(allowed).toEqual([...called].sort());
  });
});
