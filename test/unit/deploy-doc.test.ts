import { readFileSync } from "node:fs";
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
