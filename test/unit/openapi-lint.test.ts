import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { root } from "../../scripts/build.js";
import { offlineOpenApiDocument } from "../../scripts/openapi.js";

const document = offlineOpenApiDocument();
const operations = Object.values(document.paths).flatMap((item) => Object.entries(item as Record<string, { operationId?: string }>).filter(([method]) => method !== "servers"));

describe("the OpenAPI document", () => {
  it("passes redocly lint (redocly.yaml) with no error and no warning", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "onair-openapi-")), "openapi.json");
    writeFileSync(file, JSON.stringify(document));
    const { stdout } = await promisify(execFile)(join(root, "node_modules", ".bin", "redocly"), ["lint", file, "--format=json", "--config", join(root, "redocly.yaml")], { cwd: root }).catch(
      (failure: { stdout: string }) => failure,
    );
    const report = JSON.parse(stdout) as { totals: { errors: number; warnings: number }; problems: { ruleId: string; message: string }[] };
    expect(report.problems.map((problem) => `${problem.ruleId}: ${problem.message}`)).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
  }, 60_000);

  it("names every operation with a unique operationId", () => {
    const ids = operations.map(([, operation]) => operation.operationId);
    expect(ids.every((id) => typeof id === "string")).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("requires the Idempotency-Key header on gifts and credits", () => {
    const paths = document.paths as Record<string, Record<string, { parameters?: { name: string; in: string; required: boolean }[] }>>;
    for (const [path, method] of [["/v1/wallet/gifts", "post"], ["/v1/admin/wallets/{userId}/credits", "post"]] as const) {
      expect(paths[path]![method]!.parameters).toContainEqual(expect.objectContaining({ name: "idempotency-key", in: "header", required: true }));
    }
  });
});
