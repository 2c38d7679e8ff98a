/**
 * Event-loop stalls while the built-in engine loads its signatures (start and every SIGHUP reload): the longest
 * gap between two turns of the event loop, and the total time, for
 *   - in place: readFileSync + parseSignatureText + the BuiltinEngine constructor (Vectorscan compiles on this
 *     thread; what a start and a reload did before the engine was built with `create`);
 *   - the server's path: loadSignatureFiles (1 MiB slices) + BuiltinEngine.create (Vectorscan on libuv's thread
 *     pool, hash signatures indexed in slices).
 * Signature sets: 10,000 random .ndb body signatures in the shapes of scan.bench.ts, and a million random .hsb
 * lines (SHA-256 with sizes, the size of ClamAV's hash files). Files in a temp dir, removed at the end.
 * Writes results/reload-stall.json.
 *   BENCH_NDB (default 10000), BENCH_HSB (default 1000000)
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BuiltinEngine, loadSignatureFiles, parseSignatureText } from '@mmsguard/scan';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const NDB = Number(process.env['BENCH_NDB'] ?? 10_000);
const HSB = Number(process.env['BENCH_HSB'] ?? 1_000_000);

function ndbText(n: number): string {
  return Array.from({ length: n }, (_, i) => {
    const a = randomBytes(8).toString('hex');
    const b = randomBytes(8).toString('hex');
    return `Bench.${i}:0:*:${i % 3 === 0 ? a + b : i % 3 === 1 ? `${a}??${b}` : `${a}{2-8}${b}`}`;
  }).join('\n');
}

function hsbText(n: number): string {
  return Array.from({ length: n }, (_, i) => `${randomBytes(32).toString('hex')}:${1000 + (i % 5000)}:H.${i}`)
    .join('\n');
}

interface Row { set: string; path: string; total_ms: number; longest_stall_ms: number; signatures: number }

/** Runs `fn` while a setImmediate chain measures the longest gap between two turns of the loop. */
async function watch(set: string, path: string, fn: () => Promise<BuiltinEngine>): Promise<Row> {
  let last = performance.now();
  let longest = 0;
  let done = false;
  const tick = (): void => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
    if (!done) setImmediate(tick);
  };
  setImmediate(tick);
  const start = performance.now();
  const engine = await fn();
  const total = performance.now() - start;
  done = true;
  await new Promise((r) => setImmediate(r));
  const s = engine.stats;
  const row = {
    set, path, total_ms: Math.round(total), longest_stall_ms: Math.round(longest),
    signatures: s.hashSignatures + s.bodySignatures,
  };
  console.log(`${set}, ${path}: ${row.total_ms} ms in all, longest stall ${row.longest_stall_ms} ms`);
  return row;
}

const dir = mkdtempSync(join(tmpdir(), 'reload-stall-'));
try {
  const files = { [`${NDB} .ndb`]: join(dir, 'bench.ndb'), [`${HSB} .hsb`]: join(dir, 'bench.hsb') };
  writeFileSync(join(dir, 'bench.ndb'), ndbText(NDB));
  writeFileSync(join(dir, 'bench.hsb'), hsbText(HSB));
  const loadStart = loadavg();
  const rows: Row[] = [];
  for (const [set, file] of Object.entries(files)) {
    rows.push(await watch(set, 'in place (constructor)', () => {
      const { set: sigs } = parseSignatureText(file, readFileSync(file, 'utf8'));
      return Promise.resolve(new BuiltinEngine(sigs));
    }));
    rows.push(await watch(set, 'server (loadSignatureFiles + create)', async () =>
      BuiltinEngine.create(await loadSignatureFiles([file]))));
  }
  const out = {
    bench: 'reload-stall', date: new Date().toISOString(), node: process.version,
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, loadavg_start: loadStart, loadavg_end: loadavg() },
    rows,
  };
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench/results/reload-stall.json'), `${JSON.stringify(out, null, 2)}\n`);
  console.log('\n| signatures | path | total ms | longest event-loop stall ms |\n|---|---|---:|---:|');
  for (const r of rows) console.log(`| ${r.set} | ${r.path} | ${r.total_ms} | ${r.longest_stall_ms} |`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
