/**
 * Per function: bundle size, and cold start = a fresh Node process loading the function and
 * answering its first request (time from process start, `performance.now()` in the child),
 * for the deployable bundle and for the same code with node_modules left unbundled.
 * Median of `runs` processes each.
 *
 * Then the import alone, as whole-process wall clock: `node -e 'require(bundle)'` against
 * `node -e 0`, run in pairs so both see the same machine; medians of `importRuns` pairs.
 * `--compare <dist dir | git ref>` (or `COLD_START_COMPARE=<dist dir>`) adds another build's
 * bundles (e.g. main's) to the same run.
 *
 *   npm run bench -- cold-start --compare main
 */
import { execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";
import { buildAll, bundleOptions, root } from "../build.js";
import { functionSpecs } from "../functions.js";
import { startBenchStack } from "./support.js";

const runs = 9;
const importRuns = 11;

/**
 * Load the module, send one event, print ms since process start. The HTTP probe is a request
 * rejected before any I/O; the timer probe is a full sweep of the bench stack's empty table.
 */
const probe = (modulePath: string, kind: "http" | "timer") => `
const { main_handler } = require(${JSON.stringify(modulePath)});
const event = ${kind === "http" ? `{ httpMethod: "POST", path: "/v1/usersig", headers: {}, body: "" }` : `{ Type: "Timer", TriggerName: "bench", Time: new Date().toISOString() }`};
Promise.resolve(main_handler(event, { request_id: "cold" })).then(() => {
  process.stdout.write("\\ncold-start-ms " + performance.now() + "\\n");
});`;

/** Asynchronous, so the emulator in this process answers the probe's calls. */
const run = promisify(execFile);

async function measure(modulePath: string, kind: "http" | "timer"): Promise<number> {
  // The running bench stack's environment: the sweeper's first run really reads DynamoDB Local.
  const env = { ...process.env, LOG_LEVEL: "error" };
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const { stdout: output } = await run(process.execPath, ["-e", probe(modulePath, kind)], { env, encoding: "utf8" });
    times.push(Number(/cold-start-ms ([\d.]+)/.exec(output)?.[1]));
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(runs / 2)]!;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** Wall clock of a whole process, and the CPU it used (which a busy machine disturbs less). */
async function processCost(code: string, env: NodeJS.ProcessEnv): Promise<{ wallMs: number; cpuMs: number }> {
  const started = performance.now();
  const { stdout } = await run(process.execPath, ["-e", `${code};const u=process.cpuUsage();process.stdout.write("\\ncpu-us "+(u.user+u.system))`], { env, encoding: "utf8" });
  return { wallMs: performance.now() - started, cpuMs: Number(/cpu-us (\d+)/.exec(stdout)?.[1]) / 1000 };
}

/** Medians of paired runs: bare Node, and Node requiring each bundle. */
export async function benchImports(bundles: { label: string; path: string }[]): Promise<void> {
  const env = { ...process.env, LOG_LEVEL: "error" };
  const bare: { wallMs: number; cpuMs: number }[] = [];
  const loaded = new Map<string, { wallMs: number; cpuMs: number }[]>(bundles.map((b) => [b.label, []]));
  for (let i = 0; i < importRuns; i++) {
    for (const bundle of bundles) {
      bare.push(await processCost("0", env));
      loaded.get(bundle.label)!.push(await processCost(`require(${JSON.stringify(bundle.path)})`, env));
    }
  }
  const bareWall = median(bare.map((b) => b.wallMs));
  const bareCpu = median(bare.map((b) => b.cpuMs));
  console.log(`import only: fresh process, medians of ${importRuns} pairs; bare node -e 0: ${bareWall.toFixed(0)} ms wall, ${bareCpu.toFixed(0)} ms CPU`);
  console.log("bundle                      wall ms  over bare  × bare    CPU ms  over bare  × bare");
  for (const bundle of bundles) {
    const wall = median(loaded.get(bundle.label)!.map((b) => b.wallMs));
    const cpu = median(loaded.get(bundle.label)!.map((b) => b.cpuMs));
    console.log(
      `${bundle.label.padEnd(26)} ${wall.toFixed(0).padStart(8)} ${`+${(wall - bareWall).toFixed(0)}`.padStart(10)} ${(wall / bareWall).toFixed(2).padStart(7)}` +
        ` ${cpu.toFixed(0).padStart(9)} ${`+${(cpu - bareCpu).toFixed(0)}`.padStart(10)} ${(cpu / bareCpu).toFixed(2).padStart(7)}`,
    );
  }
}

export async function benchColdStart(compare?: string): Promise<void> {
  const sizes = await buildAll();
  const { stack } = await startBenchStack();
  try {
    const unbundledDir = join(root, ".bench", "unbundled");
    rmSync(unbundledDir, { recursive: true, force: true });
    mkdirSync(unbundledDir, { recursive: true });
    const baseline = execFileSync(process.execPath, ["-e", "process.stdout.write(String(performance.now()))"], { encoding: "utf8" });
    console.log(`cold start: fresh node ${process.version} process, load + first request, median of ${runs} (empty node: ${Number(baseline).toFixed(0)} ms)`);
    console.log("function        bundle       zip   bundled ms   unbundled ms   unbundled/bundled");
    for (const spec of functionSpecs) {
      // Same code, our sources compiled together but every npm package loaded from node_modules.
      const unbundled = join(unbundledDir, `${spec.name}.cjs`);
      await build({ ...bundleOptions(spec.name), outfile: unbundled, packages: "external", minify: false });
      const size = sizes.find((s) => s.name === spec.name)!;
      const bundled = await measure(join(root, "dist", spec.name, "index.js"), spec.kind);
      const plain = await measure(unbundled, spec.kind);
      console.log(
        `${spec.name.padEnd(15)} ${`${(size.bundleBytes / 1024).toFixed(0)} KiB`.padStart(9)} ${`${(size.zipBytes / 1024).toFixed(0)} KiB`.padStart(8)}` +
          ` ${bundled.toFixed(0).padStart(12)} ${plain.toFixed(0).padStart(14)} ${(plain / bundled).toFixed(2).padStart(19)}`,
      );
    }
    console.log();
    await benchImports(
      functionSpecs.flatMap((spec) => [
        { label: spec.name, path: join(root, "dist", spec.name, "index.js") },
        ...(compare ? [{ label: `${spec.name} (compared)`, path: join(compare, spec.name, "index.js") }] : []),
      ]),
    );
  } finally {
    await stack.stop();
  }
}
