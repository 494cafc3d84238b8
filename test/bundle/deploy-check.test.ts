import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseEnv, promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { checkDeployment } from "../../scripts/deploy-check.js";

const root = join(import.meta.dirname, "../..");
const exampleText = readFileSync(join(root, ".env.example"), "utf8");
const example = parseEnv(exampleText);
const manifestText = readFileSync(join(root, "serverless.yml"), "utf8");
const check = (env: Record<string, string | undefined>) => checkDeployment({ manifestText, env, distDir: join(root, "dist") });
const run = promisify(execFile);

/** `npm run deploy:check -- --env-file <file>` in a shell that holds none of onair's variables. */
async function runCheck(envFile: string): Promise<{ code: number; stdout: string }> {
  const tsx = join(root, "node_modules", ".bin", "tsx");
  try {
    const { stdout } = await run(tsx, ["scripts/deploy-check.ts", "--env-file", envFile], { cwd: root, env: { PATH: process.env.PATH } });
    return { code: 0, stdout };
  } catch (error) {
    const failed = error as { code: number; stdout: string };
    return { code: failed.code, stdout: failed.stdout };
  }
}

describe("npm run deploy:check", () => {
  it("passes on .env.example, every function ok, and names the placeholders to replace", async () => {
    const { code, stdout } = await runCheck(join(root, ".env.example"));
    expect(stdout).toMatch(/still \.env\.example placeholders.*ONAIR_ADMIN_KEY/);
    expect(stdout).toContain("ready to deploy once the placeholders are replaced");
    expect(code).toBe(0);
    expect(stdout.match(/^ {2}ok /gm)).toHaveLength(6);
    expect(stdout).toContain("ready to deploy");
  });

  it("exits 1 and names the variable when one is removed from the file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "onair-deploy-check-"));
    const envFile = join(dir, ".env");
    writeFileSync(envFile, exampleText.replace(/^CSS_PUSH_KEY=.*$/m, ""));
    const { code, stdout } = await runCheck(envFile);
    expect(code).toBe(1);
    expect(stdout).toMatch(/CSS_PUSH_KEY is missing \(rooms, im-callback, live-callback, sweeper\)/);
  });

  it.each(Object.keys(example))("names %s when .env.example lacks it", (name) => {
    const { [name]: _, ...rest } = example;
    const { problems } = check(rest);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.join("\n")).toContain(name);
  });

  it("names malformed values, a region the component refuses and the old variable names", () => {
    const { problems, warnings } = check({ ...example, DYNAMODB_REGION: "ap-guangzhou", TENCENT_REGION: "ap-nanjing", ONAIR_ADMIN_KEY: "short", TENCENTCLOUD_ENDPOINT: "x" });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^TENCENT_REGION ap-nanjing is not a region the multi-scf component accepts/),
        expect.stringMatching(/^DYNAMODB_REGION must be an AWS region.*\(usersig, wallet, rooms, im-callback, live-callback, sweeper\)$/),
        expect.stringMatching(/^ONAIR_ADMIN_KEY must be at least 16 characters \(usersig, wallet, rooms\)$/),
      ]),
    );
    expect(warnings).toContain("TENCENTCLOUD_ENDPOINT is deprecated, set TENCENT_API_ENDPOINT instead");
  });

  it("warns when the IM app key sits where the Serverless CLI looks for its own API key", () => {
    expect(check({ ...example, TENCENT_SECRET_KEY: example.IM_SDK_SECRET_KEY }).warnings.join("\n")).toMatch(/TENCENT_SECRET_KEY is set: the Serverless CLI/);
  });
});
