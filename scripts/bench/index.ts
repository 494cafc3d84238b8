/**
 * `npm run bench [-- name…]`: print the figures the issues' closing notes quote.
 * Benchmarks: cold-start, usersig, rooms, gifts, sweeper (all by default).
 */
import { benchColdStart } from "./cold-start.js";
import { benchGifts } from "./gifts.js";
import { benchRooms } from "./rooms.js";
import { benchSweeper } from "./sweeper.js";
import { benchUserSig } from "./usersig.js";

delete process.env.http_proxy;
delete process.env.HTTP_PROXY;

const benches: Record<string, () => Promise<void>> = { "cold-start": benchColdStart, usersig: benchUserSig, rooms: benchRooms, gifts: benchGifts, sweeper: benchSweeper };
const chosen = process.argv.slice(2);
for (const name of chosen.length > 0 ? chosen : Object.keys(benches)) {
  const bench = benches[name];
  if (!bench) throw new Error(`unknown benchmark ${name}; choose from ${Object.keys(benches).join(", ")}`);
  await bench();
  console.log();
}
