import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { root } from "../build.js";

/**
 * The dist folder of another build, for benchmarks that put two builds in one run: a folder
 * holding `<function>/index.js` (or a checkout holding `dist/`) as it is, or a git ref, which
 * is exported to `.bench/compare/<commit>/` and built there once with its own build script.
 */
export function compareDist(target: string): string {
  for (const dir of [target, join(target, "dist")]) if (existsSync(join(dir, "usersig", "index.js"))) return dir;
  const commit = execFileSync("git", ["rev-parse", "--verify", `${target}^{commit}`], { cwd: root, encoding: "utf8" }).trim();
  const checkout = join(root, ".bench", "compare", commit);
  const dist = join(checkout, "dist");
  if (existsSync(join(dist, "usersig", "index.js"))) return dist;
  rmSync(checkout, { recursive: true, force: true });
  mkdirSync(checkout, { recursive: true });
  execFileSync("sh", ["-c", `git archive ${commit} | tar -x -C ${JSON.stringify(checkout)}`], { cwd: root });
  // The same installed packages: a comparison is between our code, not between lockfiles.
  symlinkSync(join(root, "node_modules"), join(checkout, "node_modules"));
  console.log(`building ${target} (${commit.slice(0, 10)}) into ${dist}`);
  execFileSync(process.execPath, [join(root, "node_modules", "tsx", "dist", "cli.mjs"), "scripts/build.ts"], { cwd: checkout, stdio: ["ignore", "ignore", "inherit"] });
  return dist;
}
