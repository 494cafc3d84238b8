/**
 * Per function: bundle size, and cold start = a fresh Node process loading the function and
 * answering a first request that does its real work (time from process start,
 * `performance.now()` in the child), as a ratio to an empty Node process, for the deployable
 * bundle, the same code with node_modules left unbundled, and the compared build if any.
 * Median of `runs` processes each, alternating between the builds.
 *
 * Then the import alone, as whole-process wall clock: `node -e 'require(bundle)'` against
 * `node -e 0`, run in pairs so both see the same machine; medians of `importRuns` pairs, after the
 * bench stack has stopped (an import reads no database).
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
import { buildAll, bundleOptions, root, substitutePlugin } from "../build.js";
import { streamIdFor } from "../../shared/rooms/domain.js";
import { signCssCallback, signImCallback } from "../../shared/signatures/index.js";
import { functionSpecs } from "../functions.js";
import { startBenchStack } from "./support.js";

const runs = 9;
const importRuns = 21;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/**
 * The first request each function gets, one that does its real work against the bench stack:
 * a UserSig issued, the live-room list, a wallet read, a gift callback for a room that does
 * not exist (a room read, then IM's reject code), a signed moderation event for an unknown
 * stream (a room read), and a whole sweep of the empty table. `status` is what it must answer.
 */
function firstRequest(name: string, token: string): { event: object; status?: number } {
  const bearer = { authorization: `Bearer ${token}` };
  const json = { "content-type": "application/json" };
  switch (name) {
    case "usersig":
      return { event: { httpMethod: "POST", path: "/v1/usersig", headers: bearer, queryString: {} }, status: 200 };
    case "rooms":
      return { event: { httpMethod: "GET", path: "/v1/rooms", headers: bearer, queryString: {} }, status: 200 };
    case "wallet":
      return { event: { httpMethod: "GET", path: "/v1/wallet", headers: bearer, queryString: {} }, status: 200 };
    case "im-callback": {
      const command = "Group.CallbackBeforeSendMsg";
      const gift = { MsgType: "TIMCustomElem", MsgContent: { Data: JSON.stringify({ type: "gift", giftId: "rose", count: 1 }), Desc: "gift" } };
      const body = { CallbackCommand: command, GroupId: "room_999999999_bench", From_Account: "bench_fan", Random: 1, MsgId: "bench-msg", MsgBody: [gift] };
      const signed = signImCallback(process.env.IM_CALLBACK_TOKEN!, Math.floor(Date.now() / 1000));
      const queryString = { SdkAppid: process.env.TENCENT_SDKAPPID!, CallbackCommand: command, contenttype: "json", ...signed };
      return { event: { httpMethod: "POST", path: "/v1/callbacks/im", headers: json, queryString, body: JSON.stringify(body) }, status: 200 };
    }
    case "live-callback": {
      const t = Math.floor(Date.now() / 1000) + 60;
      const streamId = streamIdFor(Number(process.env.TENCENT_SDKAPPID), 999_999_999, "bench_host");
      const body = { event_type: 317, streamId, suggestion: "Block", label: "Porn", t, sign: signCssCallback(process.env.CSS_CALLBACK_KEY!, t) };
      return { event: { httpMethod: "POST", path: "/v1/callbacks/live", headers: json, queryString: {}, body: JSON.stringify(body) }, status: 200 };
    }
    default:
      return { event: { Type: "Timer", TriggerName: "bench", Time: new Date().toISOString() } };
  }
}

/** Load the module, hand it `event`, print ms since process start and the answer's status. */
const probe = (modulePath: string, event: object) => `
const { main_handler } = require(${JSON.stringify(modulePath)});
Promise.resolve(main_handler(${JSON.stringify(event)}, { request_id: "cold" })).then((answer) => {
  process.stdout.write("\\ncold-start-ms " + performance.now() + " status " + answer?.statusCode + "\\n");
});`;

/** Asynchronous, so the emulator in this process answers the probe's calls. */
const run = promisify(execFile);

/**
 * Median ms from process start to the first answer, for each module, runs alternating between
 * them so all see the same machine. A wrong status fails the bench: the work was not done.
 */
async function measure(name: string, modulePaths: string[], token: string): Promise<number[]> {
  // The running bench stack's environment: the probes really read DynamoDB Local.
  const env = { ...process.env, LOG_LEVEL: "error" };
  const times = modulePaths.map((): number[] => []);
  for (let i = 0; i < runs; i++) {
    for (const [index, modulePath] of modulePaths.entries()) {
      const { event, status } = firstRequest(name, token);
      const { stdout: output } = await run(process.execPath, ["-e", probe(modulePath, event)], { env, encoding: "utf8" });
      const [, ms, answered] = /cold-start-ms ([\d.]+) status (\S+)/.exec(output) ?? [];
      if (status !== undefined && Number(answered) !== status) throw new Error(`${name} at ${modulePath} answered ${answered}, not ${status}: ${output}`);
      times[index]!.push(Number(ms));
    }
  }
  return times.map(median);
}

/** Wall clock of a whole process, and the CPU it used (which a busy machine disturbs less). */
async function processCost(code: string, env: NodeJS.ProcessEnv): Promise<{ wallMs: number; cpuMs: number }> {
  const started = performance.now();
  const { stdout } = await run(process.execPath, ["-e", `${code};const u=process.cpuUsage();process.stdout.write("\\ncpu-us "+(u.user+u.system))`], { env, encoding: "utf8" });
  return { wallMs: performance.now() - started, cpuMs: Number(/cpu-us (\d+)/.exec(stdout)?.[1]) / 1000 };
}

type Cost = { wallMs: number; cpuMs: number };

/**
 * Medians of paired runs: bare Node, then Node requiring each bundle (and its compared build's,
 * if any). Prints each import's wall and CPU time over bare Node and as a multiple of it; with a
 * compared build, also its import's cost over bare divided by this one's ("× faster").
 */
export async function benchImports(bundles: { label: string; path: string; comparedPath?: string }[], configuration: NodeJS.ProcessEnv = process.env): Promise<void> {
  const env = { ...configuration, LOG_LEVEL: "error" };
  const bare: Cost[] = [];
  const loaded = new Map<string, Cost[]>(bundles.flatMap((b) => [b.path, ...(b.comparedPath ? [b.comparedPath] : [])]).map((path) => [path, []]));
  for (let i = 0; i < importRuns; i++) {
    for (const path of loaded.keys()) {
      bare.push(await processCost("0", env));
      loaded.get(path)!.push(await processCost(`require(${JSON.stringify(path)})`, env));
    }
  }
  const bareWall = median(bare.map((b) => b.wallMs));
  const bareCpu = median(bare.map((b) => b.cpuMs));
  const medians = (path: string) => ({ wall: median(loaded.get(path)!.map((b) => b.wallMs)), cpu: median(loaded.get(path)!.map((b) => b.cpuMs)) });
  const over = (ms: number, base: number) => `+${(ms - base).toFixed(0)}`.padStart(10);
  const times = (ms: number, base: number) => (ms / base).toFixed(2).padStart(7);
  const compared = bundles.some((b) => b.comparedPath);
  console.log(`import only: fresh process, medians of ${importRuns} pairs; bare node -e 0: ${bareWall.toFixed(0)} ms wall, ${bareCpu.toFixed(0)} ms CPU`);
  console.log(`bundle           wall ms  over bare  × bare    CPU ms  over bare  × bare${compared ? "   compared: wall ms  over bare  × bare   × faster" : ""}`);
  for (const bundle of bundles) {
    const { wall, cpu } = medians(bundle.path);
    let line = `${bundle.label.padEnd(15)} ${wall.toFixed(0).padStart(8)} ${over(wall, bareWall)} ${times(wall, bareWall)} ${cpu.toFixed(0).padStart(9)} ${over(cpu, bareCpu)} ${times(cpu, bareCpu)}`;
    if (bundle.comparedPath) {
      const other = medians(bundle.comparedPath).wall;
      line += ` ${other.toFixed(0).padStart(19)} ${over(other, bareWall)} ${times(other, bareWall)} ${((other - bareWall) / Math.max(wall - bareWall, 1)).toFixed(1).padStart(10)}`;
    }
    console.log(line);
  }
}

export async function benchColdStart(compare?: string): Promise<void> {
  const sizes = await buildAll();
  const { stack, token } = await startBenchStack();
  const configuration = { ...process.env };
  try {
    const unbundledDir = join(root, ".bench", "unbundled");
    rmSync(unbundledDir, { recursive: true, force: true });
    mkdirSync(unbundledDir, { recursive: true });
    const bare = median(Array.from({ length: runs }, () => Number(execFileSync(process.execPath, ["-e", "process.stdout.write(String(performance.now()))"], { encoding: "utf8" }))));
    const userToken = await token("bench_cold_start");
    console.log(`cold start: fresh node ${process.version} process, load + first request (its real work), medians of ${runs}; empty node: ${bare.toFixed(0)} ms`);
    console.log(`function        bundle       zip   bundled ms  × empty${compare ? "   compared ms  × compared" : ""}   unbundled ms   unbundled/bundled`);
    for (const spec of functionSpecs) {
      // Same code, our sources compiled together but every npm package loaded from node_modules
      // (the SDK clients too: no files beside it).
      const unbundled = join(unbundledDir, `${spec.name}.cjs`);
      await build({ ...bundleOptions(spec.name), plugins: [substitutePlugin], outfile: unbundled, packages: "external", minify: false });
      const size = sizes.find((s) => s.name === spec.name)!;
      const paths = [join(root, "dist", spec.name, "index.js"), unbundled, ...(compare ? [join(compare, spec.name, "index.js")] : [])];
      const [bundled, plain, compared] = await measure(spec.name, paths, userToken);
      console.log(
        `${spec.name.padEnd(15)} ${`${(size.bundleBytes / 1024).toFixed(0)} KiB`.padStart(9)} ${`${(size.zipBytes / 1024).toFixed(0)} KiB`.padStart(8)}` +
          ` ${bundled!.toFixed(0).padStart(12)} ${(bundled! / bare).toFixed(2).padStart(8)}` +
          (compared === undefined ? "" : ` ${compared.toFixed(0).padStart(13)} ${(bundled! / compared).toFixed(2).padStart(11)}`) +
          ` ${plain!.toFixed(0).padStart(14)} ${(plain! / bundled!).toFixed(2).padStart(19)}`,
      );
    }
  } finally {
    await stack.stop();
  }
  // An import reads no database: measured with the stack stopped (its configuration kept), so
  // DynamoDB Local's JVM takes no core from the pairs.
  console.log();
  await benchImports(
    functionSpecs.map((spec) => ({
      label: spec.name,
      path: join(root, "dist", spec.name, "index.js"),
      ...(compare ? { comparedPath: join(compare, spec.name, "index.js") } : {}),
    })),
    configuration,
  );
}
