/**
 * Bench-only preload for the proxy process of heap.bench.ts, never loaded in production:
 *   node --expose-gc --require bench/dist/heap-probe.cjs apps/proxy/dist/main.js
 * On SIGUSR2 it runs two full GCs (the second frees what the first's finalizers released) and appends one JSON
 * line of process.memoryUsage() to the file named by HEAP_PROBE_OUT, so the bench reads the live heap, not
 * whatever garbage the last collection left. CommonJS because --require loads it before the proxy's ESM entry.
 * The proxy must run as one process: with WORKERS set, its cluster primary uses SIGUSR2 for a rolling restart.
 */
// A --require preload is CommonJS, where verbatimModuleSyntax allows no ESM import.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- see above
import fs = require('node:fs');

const out = process.env['HEAP_PROBE_OUT'];
if (out === undefined || out === '') throw new Error('heap-probe: HEAP_PROBE_OUT is not set');
if (typeof gc !== 'function') throw new Error('heap-probe: run node with --expose-gc');
const collect = gc;

process.on('SIGUSR2', () => {
  collect();
  collect();
  const { heapUsed, external, arrayBuffers, rss } = process.memoryUsage();
  fs.appendFileSync(out, `${JSON.stringify({ time: Date.now(), heapUsed, external, arrayBuffers, rss })}\n`);
});
