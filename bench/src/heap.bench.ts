/**
 * Heap growth per message: the bench that would have shown the verdict store's leak (fixed in 763ff06: its
 * eviction FIFO only moved its head, so every record ever written stayed reachable, ~1.6 KB per message).
 * The proxy in its own process (built-in engine, LOG_LEVEL=warn, `--expose-gc --require heap-probe.cjs`) in front
 * of the trivial upstream in its own process; autocannon (in this process) at BENCH_CONNECTIONS (default 100)
 * POSTs 300 KiB m-send-req, each with its own X-Mms-Transaction-Id (`bench-00000000`, `bench-00000001` …): real
 * traffic has unique ids, and one id for all would keep the store at 16 records and hide any growth.
 *   warm-up (10 s) → probe (baseline) → BENCH_STEPS × (BENCH_STEP_SECONDS of load → probe)
 * A probe is SIGUSR2 to the proxy: two full GCs, then heapUsed, external, arrayBuffers and rss. Per step: messages
 * so far, the live heap, and its growth per message over the step.
 *
 * The store is bounded on purpose (64 MiB of record JSON, 200,000 deliveries, oldest evicted first), so the heap
 * may grow until the caps and must then plateau: at ~1 KB of heap per message the record cap is reached after
 * ~100k messages (printed from a real record's size). Verdict: growth over the last 3 steps over 200 bytes per
 * message is a leak, exit 1. The default 18 × 30 s puts the last 3 steps after the cap from ~280 req/s on (8 steps
 * needed ~800 req/s, more than a shared 2-core box gives); slower, a NOTICE says so and the steps must be more.
 * Not measured: unique part contents (every body is the same bytes, so the deliveries stay at 64 per digest and
 * their 200,000 cap is never reached), MM7, WORKERS, Redis, and heap outside V8 but for external/arrayBuffers.
 *
 *   BENCH_STEPS        load steps after the baseline (default 18, at least 3)
 *   BENCH_STEP_SECONDS seconds of load per step (default 30)
 *   BENCH_NODE_ARGS    extra node flags for the proxy, e.g. "--heapsnapshot-signal=SIGUSR1" to look at what grows
 *   BENCH_LABEL        names the run in results/heap-<label>.json (default "run")
 *   BENCH_PROXY_MAIN   the proxy's main.js (default apps/proxy/dist/main.js): another build, to compare
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { body300k, freePort, start, stopChildrenAndWait, waitFor } from './harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(here, '../..');
const WARMUP = 10;
const STEPS = Number(process.env['BENCH_STEPS'] ?? 18);
const STEP_S = Number(process.env['BENCH_STEP_SECONDS'] ?? 30);
const CONNS = Number(process.env['BENCH_CONNECTIONS'] ?? 100);
const NODE_ARGS = (process.env['BENCH_NODE_ARGS'] ?? '').split(/\s+/).filter((a) => a !== '');
const LABEL = process.env['BENCH_LABEL'] ?? 'run';
const PROXY_MAIN = resolve(process.env['BENCH_PROXY_MAIN'] ?? join(ROOT, 'apps/proxy/dist/main.js'));
/** Growth over the last 3 steps above this is a leak: a plateau's is GC noise of a few bytes per message. */
const LIMIT_BYTES_PER_MSG = 200;
/** MemoryVerdictStore's default maxBytes (packages/policy/src/verdict-store.ts), not exported. */
const RECORD_CAP_BYTES = 64 * 1024 * 1024;
const MIB = 1024 * 1024;
const ID_PREFIX = 'bench-';
const ID_DIGITS = 8;

interface Probe { time: number; heapUsed: number; external: number; arrayBuffers: number; rss: number }
interface Step {
  step: number; seconds: number; messages: number; step_messages: number; rps: number; errors: number; non2xx: number;
  heap_used_mib: number; external_mib: number; array_buffers_mib: number; rss_mib: number;
  growth_bytes_per_msg: number;
}

const round1 = (x: number): number => Math.round(x * 10) / 10;

/** The commit of the tree a build is in, and whether that tree has changes to tracked files (null: not git). */
function buildOf(main: string): { commit: string; dirty: boolean } | null {
  const git = (...args: string[]): string | null => {
    const r = spawnSync('git', ['-C', dirname(main), ...args], { encoding: 'utf8' });
    return r.status === 0 ? r.stdout.trim() : null;
  };
  const commit = git('rev-parse', '--short', 'HEAD');
  if (commit === null) return null;
  return { commit, dirty: (git('status', '--porcelain', '--untracked-files=no') ?? '') !== '' };
}

/** Sends SIGUSR2 to the proxy and waits for the heap probe's `n`th line. */
async function probe(pid: number, file: string, n: number): Promise<Probe> {
  process.kill(pid, 'SIGUSR2');
  for (let i = 0; i < 300; i++) {
    const lines = existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((l) => l !== '') : [];
    if (lines.length >= n) return JSON.parse(lines[n - 1] as string) as Probe;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`heap probe ${n} did not answer in 30 s (is ${PROXY_MAIN} running with the probe?)`);
}

async function main(): Promise<void> {
  if (!Number.isInteger(STEPS) || STEPS < 3) throw new Error('BENCH_STEPS must be an integer of at least 3');
  const probeDir = mkdtempSync(join(tmpdir(), 'heap-bench-'));
  const probeFile = join(probeDir, 'probe.jsonl');
  try {
    await run(probeFile);
  } finally {
    await stopChildrenAndWait();
    rmSync(probeDir, { recursive: true, force: true });
  }
}

async function run(probeFile: string): Promise<void> {
  const upPort = await freePort();
  const proxyPort = await freePort();
  const adminPort = await freePort();
  start(process.execPath, [join(ROOT, 'bench/dist/trivial-upstream.js')], { UPSTREAM_PORT: String(upPort) });
  await waitFor(`http://127.0.0.1:${upPort}/`);
  const probeArgs = ['--expose-gc', '--require', join(ROOT, 'bench/dist/heap-probe.cjs')];
  const proxy = start(process.execPath, [...probeArgs, ...NODE_ARGS, PROXY_MAIN], {
    HOST: '127.0.0.1', MM1_PORT: String(proxyPort), ADMIN_PORT: String(adminPort),
    MM7_PORT: String(await freePort()), SIM_PORT: String(await freePort()),
    MM1_UPSTREAM_URL: `http://127.0.0.1:${upPort}`, LOG_LEVEL: 'warn', HEAP_PROBE_OUT: probeFile,
  });
  await waitFor(`http://127.0.0.1:${adminPort}/healthz`);
  const pid = proxy.pid as number;

  // One body; each request patches its own digits into a copy (autocannon copies it into the request anyway).
  const template = body300k(ID_PREFIX + '0'.repeat(ID_DIGITS));
  const at = template.indexOf(ID_PREFIX + '0'.repeat(ID_DIGITS)) + ID_PREFIX.length;
  if (at < ID_PREFIX.length || template.lastIndexOf(ID_PREFIX) !== at - ID_PREFIX.length) {
    throw new Error('the transaction id is not found exactly once in the body');
  }
  let next = 0;
  const setupRequest = (req: autocannon.Request): autocannon.Request => {
    const body = Buffer.from(template);
    body.write(String(next++).padStart(ID_DIGITS, '0'), at, 'latin1');
    return { ...req, body };
  };
  const load = (seconds: number): Promise<autocannon.Result> => autocannon({
    url: `http://127.0.0.1:${proxyPort}/mms`, method: 'POST', connections: CONNS, duration: seconds,
    headers: { 'content-type': 'application/vnd.wap.mms-message' }, requests: [{ setupRequest }],
  });

  const warm = await load(WARMUP);
  let messages = warm.requests.total;
  // The proxy decodes the patched id: the first message's verdict is there under it; its size sets the cap.
  const firstId = `${ID_PREFIX}${'0'.repeat(ID_DIGITS)}`;
  const lookup = await fetch(`http://127.0.0.1:${adminPort}/verdicts/${firstId}`);
  const lookupText = await lookup.text();
  if (lookup.status !== 200) {
    throw new Error(`GET /verdicts/${firstId}: ${lookup.status}, the ids do not reach the store`);
  }
  const record = (JSON.parse(lookupText) as { verdicts: unknown[] }).verdicts[0];
  const recordBytes = Buffer.byteLength(JSON.stringify(record));
  const capMessages = Math.round(RECORD_CAP_BYTES / recordBytes);
  process.stderr.write(`${LABEL}: verdict of ${firstId} found (${recordBytes} bytes of record JSON): `
    + `the 64 MiB record cap is reached after ~${capMessages} messages\n`);

  await new Promise((r) => setTimeout(r, 1000));
  const base = await probe(pid, probeFile, 1);
  const samples = [{ probe: base, messages }];
  const steps: Step[] = [];
  for (let i = 1; i <= STEPS; i++) {
    const r = await load(STEP_S);
    messages += r.requests.total;
    // Let the aborted in-flight requests of autocannon's stop finish before measuring.
    await new Promise((res) => setTimeout(res, 1000));
    const p = await probe(pid, probeFile, i + 1);
    const prev = (samples[i - 1] as { probe: Probe }).probe;
    const s: Step = {
      step: i, seconds: STEP_S, messages, step_messages: r.requests.total, rps: Math.round(r.requests.average),
      errors: r.errors + r.timeouts, non2xx: r.non2xx,
      heap_used_mib: round1(p.heapUsed / MIB), external_mib: round1(p.external / MIB),
      array_buffers_mib: round1(p.arrayBuffers / MIB), rss_mib: round1(p.rss / MIB),
      growth_bytes_per_msg: Math.round((p.heapUsed - prev.heapUsed) / Math.max(1, r.requests.total)),
    };
    steps.push(s);
    samples.push({ probe: p, messages });
    process.stderr.write(`${LABEL} step ${i}: ${s.messages} messages (${s.rps} req/s), heap ${s.heap_used_mib} MiB, `
      + `external ${s.external_mib} MiB, rss ${s.rss_mib} MiB, ${s.growth_bytes_per_msg} B/message `
      + `(${s.errors} errors, ${s.non2xx} non-2xx)\n`);
  }

  // From the probes, not the rounded MiB: over a plateau the window grows by a few KiB at most.
  const from = samples[STEPS - 3] as { probe: Probe; messages: number };
  const to = samples[STEPS] as { probe: Probe; messages: number };
  const last3 = Math.round((to.probe.heapUsed - from.probe.heapUsed) / Math.max(1, to.messages - from.messages));
  const pass = last3 <= LIMIT_BYTES_PER_MSG;
  const notices: string[] = [];
  if (from.messages < capMessages) {
    notices.push(`the last 3 steps start at ${from.messages} messages, before the record cap (~${capMessages}): `
      + 'their growth includes the store filling up; raise BENCH_STEPS or BENCH_STEP_SECONDS');
  }
  const errors = steps.reduce((n, s) => n + s.errors + s.non2xx, 0) + warm.errors + warm.timeouts + warm.non2xx;
  if (errors > 0) notices.push(`${errors} requests failed or were not 2xx: they may have written no verdict`);
  for (const n of notices) console.warn(`NOTICE: ${n}`);

  const out = {
    bench: 'heap', label: LABEL, date: new Date().toISOString(), node: process.version,
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, mem_mib: Math.round(totalmem() / MIB),
      loadavg_end: loadavg().map(round1) },
    proxy_main: PROXY_MAIN, build: buildOf(PROXY_MAIN), node_args: NODE_ARGS, body_bytes: template.length,
    connections: CONNS, warmup_s: WARMUP, warmup_messages: warm.requests.total, record_bytes: recordBytes,
    record_cap_messages: capMessages,
    baseline: { heap_used_mib: round1(base.heapUsed / MIB), external_mib: round1(base.external / MIB),
      array_buffers_mib: round1(base.arrayBuffers / MIB), rss_mib: round1(base.rss / MIB) },
    steps, last3_growth_bytes_per_msg: last3, limit_bytes_per_msg: LIMIT_BYTES_PER_MSG, pass, notices,
  };
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(join(ROOT, `bench/results/heap-${LABEL}.json`), `${JSON.stringify(out, null, 2)}\n`);
  console.log('| step | messages | req/s | heapUsed MiB | external MiB | rss MiB | growth B/message | errors |');
  console.log('|---:|---:|---:|---:|---:|---:|---:|---:|');
  console.log(`| baseline | ${warm.requests.total} | | ${out.baseline.heap_used_mib} | ${out.baseline.external_mib} `
    + `| ${out.baseline.rss_mib} | | |`);
  for (const s of steps) {
    console.log(`| ${s.step} | ${s.messages} | ${s.rps} | ${s.heap_used_mib} | ${s.external_mib} | ${s.rss_mib} `
      + `| ${s.growth_bytes_per_msg} | ${s.errors + s.non2xx} |`);
  }
  const verdict = pass ? 'plateau' : 'GROWS';
  console.log(`${LABEL}: last 3 steps ${last3} B/message (limit ${LIMIT_BYTES_PER_MSG}): ${verdict}`);
  if (!pass) process.exitCode = 1;
}

await main();
