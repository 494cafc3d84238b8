import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { emulatorUrl, stackUrl } from "../helpers.js";

const root = join(import.meta.dirname, "../..");
const run = promisify(execFile);

/** `npm run smoke -- <base URL>` as an operator runs it. */
async function smoke(baseUrl: string): Promise<{ code: number; stdout: string }> {
  try {
    const { stdout } = await run(join(root, "node_modules", ".bin", "tsx"), ["scripts/smoke.ts", baseUrl], { cwd: root, env: { PATH: process.env.PATH } });
    return { code: 0, stdout };
  } catch (error) {
    const failed = error as { code: number; stdout: string };
    return { code: failed.code, stdout: failed.stdout };
  }
}

describe("npm run smoke", () => {
  it("walks a user through register, UserSig and a room's life on the stack, one line per step", async () => {
    const { code, stdout } = await smoke(stackUrl());
    expect(code).toBe(0);
    for (const step of ["register", "log in", "UserSig", "create room", "go live", "read room", "close room", "log out"]) {
      expect(stdout).toMatch(new RegExp(`^ {2}ok +${step} +\\d{3} +\\d+ ms`, "m"));
    }
    expect(stdout).toMatch(/close room .* no side effect pending/);
    expect(stdout).toContain("all steps passed");
  });

  it("stops at the first failing step and says what to check", async () => {
    // The emulator serves no /v1 routes: the first step already fails.
    const { code, stdout } = await smoke(emulatorUrl());
    expect(code).toBe(1);
    expect(stdout).toMatch(/^ {2}FAIL register +404 .*expected 201, got: .*; check usersig/m);
    expect(stdout).not.toMatch(/log in/);
  });
});
