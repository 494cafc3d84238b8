/**
 * `npm run bench [-- name… [--compare <dist dir | git ref>]]`: print the figures the issues'
 * closing notes quote. Benchmarks: cold-start, requests, usersig, rooms, gifts, broadcasts,
 * sweeper (all by default). `--compare` puts another build beside this one in cold-start and
 * requests.
 */
import { benchBroadcasts } from "./broadcasts.js";
import { benchColdStart } from "./cold-start.js";
import { compareDist } from "./compare.js";
import { benchGifts } from "./gifts.js";
import { benchRequests } from "./requests.js";
import { benchRooms } from "./rooms.js";
import { benchSweeper } from "./sweeper.js";
import { benchUserSig } from "./usersig.js";

delete process.env.http_proxy;
delete process.env.HTTP_PROXY;

const args = process.argv.slice(2);
const compareAt = args.indexOf("--compare");
const compare = compareAt >= 0 ? compareDist(args.splice(compareAt, 2)[1] ?? "main") : process.env.COLD_START_COMPARE;

const benches: Record<string, () => Promise<void>> = {
  "cold-start": () => benchColdStart(compare),
  requests: () => benchRequests(compare),
  usersig: benchUserSig,
  rooms: benchRooms,
  gifts: benchGifts,
  broadcasts: benchBroadcasts,
  sweeper: benchSweeper,
};
const chosen = args;
for (const name of chosen.length > 0 ? chosen : Object.keys(benches)) {
  const bench = benches[name];
  if (!bench) throw new Error(`unknown benchmark ${name}; choose from ${Object.keys(benches).join(", ")}`);
  await bench();
  console.log();
}
