import { afterEach, expect, it } from "vitest";
import { createLogger, logSink } from "../../shared/log/index.js";

const originalWrite = logSink.write;
afterEach(() => {
  logSink.write = originalWrite;
  process.env.LOG_LEVEL = "warn";
});

it("redacts secrets at any depth and keeps the rest", () => {
  const lines: string[] = [];
  logSink.write = (line) => void lines.push(line);
  process.env.LOG_LEVEL = "info";
  createLogger({ requestId: "r1" }).info("login", {
    userId: "alice",
    password: "hunter22",
    nested: { token: "tok", userSig: "sig", headers: { authorization: "Bearer x", "x-admin-key": "k" } },
    list: [{ secretKey: "s" }],
  });
  const line = JSON.parse(lines[0]!);
  expect(line).toMatchObject({ level: "info", message: "login", requestId: "r1", userId: "alice", password: "[redacted]" });
  expect(line.nested).toEqual({ token: "[redacted]", userSig: "[redacted]", headers: { authorization: "[redacted]", "x-admin-key": "[redacted]" } });
  expect(line.list).toEqual([{ secretKey: "[redacted]" }]);
  expect(lines[0]).not.toMatch(/hunter22|tok"|sig"|Bearer x/);
});
