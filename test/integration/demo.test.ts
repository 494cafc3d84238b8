import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { root } from "../../scripts/build.js";
import { localEnvDefaults } from "../../scripts/local/env.js";

describe("npm run demo", () => {
  it("plays the whole show, every step checked, in under a minute, and exits 0", async () => {
    // The demo starts its own stack and emulator. It keeps the suite's DYNAMODB_ENDPOINT, so it
    // shares the suite's DynamoDB Local instead of starting a second one, and drops the rest of
    // the suite's local settings, which point at the suite's emulator.
    const env = { ...process.env };
    for (const name of Object.keys(localEnvDefaults({ port: 0, emulatorPort: 0 }))) delete env[name];
    const { stdout } = await promisify(execFile)(join(root, "node_modules", ".bin", "tsx"), ["scripts/demo.ts"], { cwd: root, env, timeout: 120_000 }).catch(
      (failure: { stdout?: string; message: string }) => {
        throw new Error(`the demo failed:\n${failure.stdout ?? ""}\n${failure.message}`);
      },
    );
    expect(stdout).not.toContain("✗");
    for (const step of [
      "joining [██████████████████████████████] 50/50",
      "✓ 50 viewers join — online 50",
      "✓ viewers chat in the group",
      "sends 3 roses through the API — 3 coins, delivery ",
      "refused: 402 insufficient_balance",
      "sends a cake as an IM message — billed in the callback, delivered",
      "refused: ErrorCode 10102",
      "goes on mic — TRTC ticket as cohost",
      "comes off mic",
      "✓ host ends the show — closed (host)",
      "gift income     33 coins",
      "✓ the recording reaches the replay catalog",
    ]) {
      expect(stdout).toContain(step);
    }
    const seconds = Number(/done in ([\d.]+) s/.exec(stdout)?.[1]);
    expect(seconds).toBeLessThan(60);
  }, 150_000);
});
