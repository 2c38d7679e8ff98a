// Issue 14 class 11: RSS growth while 8 copies of a ~70 KiB zip bomb (64 members of 1 MiB zeros, each under every
// single-member limit) are inspected concurrently. Run after `npx tsc -b packages/scan`:
//   node --expose-gc packages/scan/scripts/expansion-rss.mjs
// Measured on the 2-core dev machine (Node 20.20): before the expansion budget (expandArchives as of f118a2d)
// 478–493 MiB of RSS growth, 512 MiB of expanded members held, verdict clean; after (this script, inspectTarget):
// 63–84 MiB of RSS growth, pool peak ~54 MiB, verdict unscannable (ratio across the archive), pool empty afterwards.
import { zipSync } from 'fflate';
import { BuiltinEngine, ExpansionBudget, ExpansionPool, inspectTarget } from '../dist/index.js';

const MiB = 2 ** 20;
const members = Array.from({ length: 64 }, (_, i) => [`z${i}.bin`, [new Uint8Array(MiB), { level: 9 }]]);
const bomb = zipSync(Object.fromEntries(members));
const engines = [new BuiltinEngine()];
const pool = new ExpansionPool();
const inspect = (i) => inspectTarget({ path: `b${i}.zip`, data: bomb }, {
  engines, timeoutMs: 10_000, expansionBudget: new ExpansionBudget({ pool }),
});
// Warm up the code paths on a harmless zip (not the bomb, whose memory would stay in the baseline).
const warm = zipSync({ 'a.txt': new TextEncoder().encode('warm') });
await inspectTarget({ path: 'w.zip', data: warm }, { engines, timeoutMs: 10_000 });
globalThis.gc?.();
const base = process.memoryUsage().rss;
let peak = base;
const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 2);
const reports = await Promise.all(Array.from({ length: 8 }, (_, i) => inspect(i)));
peak = Math.max(peak, process.memoryUsage().rss);
clearInterval(sampler);
console.log(JSON.stringify({
  bombBytes: bomb.length, concurrent: 8, rssGrowthMiB: +((peak - base) / MiB).toFixed(1),
  poolPeakMiB: +(pool.peak / MiB).toFixed(1), poolInUseAfter: pool.inUse,
  verdicts: [...new Set(reports.map((r) => r.verdict))], findings: reports[0].findings,
}));
