/**
 * Warm vs after idle (issue 15, "No GC collapse"): the proxy in its own process (built-in engine, LOG_LEVEL=warn)
 * in front of a trivial upstream in its own process (reads the body, answers a 40-byte m-send-conf), 300 KiB
 * m-send-req with autocannon (in this process) at BENCH_CONNECTIONS (default 100):
 *   warm-up (BENCH_WARMUP s) → warm (BENCH_DURATION s) → idle (BENCH_IDLE s, no traffic) → after idle
 *   (BENCH_DURATION s) → after idle again (BENCH_DURATION s: does it stay so under load?)
 * For each measured phase: req/s, p50/p99, CPU per message = the proxy's utime+stime (from /proc/PID/stat)
 * ÷ requests, and major GCs per 1,000 messages (the proxy's own nodejs_gc_duration_seconds from /metrics).
 *
 *   BENCH_NODE_ARGS  extra node flags for the proxy, e.g. "--no-memory-reducer"
 *   BENCH_PROXY_ENV  JSON object of extra proxy environment variables
 *   BENCH_LABEL      names the run in results/idle-<label>.json (default "run")
 *   BENCH_PROXY_MAIN the proxy's main.js (default apps/proxy/dist/main.js): a saved build, to compare before/after
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { body300k, freePort, rssKb, start, stopChildren, waitFor } from './harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(here, '../..');
const DURATION = Number(process.env['BENCH_DURATION'] ?? 10);
const WARMUP = Number(process.env['BENCH_WARMUP'] ?? 5);
const IDLE = Number(process.env['BENCH_IDLE'] ?? 60);
const CONNS = Number(process.env['BENCH_CONNECTIONS'] ?? 100);
const NODE_ARGS = (process.env['BENCH_NODE_ARGS'] ?? '').split(/\s+/).filter((a) => a !== '');
const PROXY_ENV = JSON.parse(process.env['BENCH_PROXY_ENV'] ?? '{}') as Record<string, string>;
const LABEL = process.env['BENCH_LABEL'] ?? 'run';
const PROXY_MAIN = process.env['BENCH_PROXY_MAIN'] ?? join(ROOT, 'apps/proxy/dist/main.js');
const TICK = Number(spawnSync('getconf', ['CLK_TCK']).stdout?.toString().trim() || 100);

/** utime + stime of a process, in µs. */
function cpuUs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of stat(5); f[0] is field 3.
  return ((Number(f[11]) + Number(f[12])) * 1e6) / TICK;
}

/** Major (mark-compact) GCs so far and their total seconds, from the proxy's default prom-client metrics. */
async function majorGcs(adminPort: number): Promise<{ n: number; s: number }> {
  const text = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
  const n = Number(/nodejs_gc_duration_seconds_count\{kind="major"\} (\S+)/.exec(text)?.[1] ?? 0);
  const s = Number(/nodejs_gc_duration_seconds_sum\{kind="major"\} (\S+)/.exec(text)?.[1] ?? 0);
  return { n, s };
}

interface Phase {
  phase: string; rps: number; requests: number; p50: number; p99: number; errors: number; non2xx: number;
  cpu_us_per_msg: number; major_gc_per_1000: number; major_gc_ms_per_1000: number; rss_mib: number;
}

async function main(): Promise<void> {
  const upPort = await freePort();
  const proxyPort = await freePort();
  const adminPort = await freePort();
  start(process.execPath, [join(ROOT, 'bench/dist/trivial-upstream.js')], { UPSTREAM_PORT: String(upPort) });
  const proxy = start(process.execPath, [...NODE_ARGS, PROXY_MAIN], {
    HOST: '127.0.0.1', MM1_PORT: String(proxyPort), ADMIN_PORT: String(adminPort),
    MM1_UPSTREAM_URL: `http://127.0.0.1:${upPort}`, LOG_LEVEL: 'warn', ...PROXY_ENV,
  });
  await waitFor(`http://127.0.0.1:${adminPort}/healthz`);
  const pid = proxy.pid as number;
  const url = `http://127.0.0.1:${proxyPort}/mms`;
  const body = body300k();
  const headers = { 'content-type': 'application/vnd.wap.mms-message' };
  await autocannon({ url, method: 'POST', body, headers, connections: CONNS, duration: WARMUP });
  const phases: Phase[] = [];
  const measure = async (phase: string): Promise<void> => {
    const gc0 = await majorGcs(adminPort);
    const cpu0 = cpuUs(pid);
    const r = await autocannon({ url, method: 'POST', body, headers, connections: CONNS, duration: DURATION });
    const cpu1 = cpuUs(pid);
    const gc1 = await majorGcs(adminPort);
    const n = Math.max(1, r.requests.total);
    const p: Phase = {
      phase, rps: Math.round(r.requests.average), requests: r.requests.total, p50: r.latency.p50, p99: r.latency.p99,
      errors: r.errors + r.timeouts, non2xx: r.non2xx, cpu_us_per_msg: Math.round((cpu1 - cpu0) / n),
      major_gc_per_1000: Math.round(((gc1.n - gc0.n) * 1000 * 10) / n) / 10,
      major_gc_ms_per_1000: Math.round(((gc1.s - gc0.s) * 1e6) / n) / 1,
      rss_mib: Math.round(rssKb(pid).rss / 1024),
    };
    phases.push(p);
    process.stderr.write(`${LABEL} ${phase}: ${p.rps} req/s, p99 ${p.p99} ms, ${p.cpu_us_per_msg} µs CPU/msg, `
      + `${p.major_gc_per_1000} major GC per 1000 msgs (${p.major_gc_ms_per_1000} ms), RSS ${p.rss_mib} MiB\n`);
  };
  await measure('warm');
  process.stderr.write(`idle ${IDLE} s …\n`);
  await new Promise((r) => setTimeout(r, IDLE * 1000));
  await measure('after idle');
  await measure('after idle, 2nd');
  const warm = phases[0] as Phase;
  const idle = phases[1] as Phase;
  const out = {
    bench: 'idle', label: LABEL, date: new Date().toISOString(), node: process.version, cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length, node_args: NODE_ARGS, proxy_env: PROXY_ENV, body_bytes: body.length, connections: CONNS,
    duration_s: DURATION, idle_s: IDLE, phases,
    idle_vs_warm: { rps: Math.round((idle.rps / warm.rps) * 100) / 100, cpu: Math.round((idle.cpu_us_per_msg / warm.cpu_us_per_msg) * 100) / 100 },
  };
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(join(ROOT, `bench/results/idle-${LABEL}.json`), `${JSON.stringify(out, null, 2)}\n`);
  console.log('| phase | req/s | p50 ms | p99 ms | CPU µs/msg | major GC /1000 msgs | major GC ms /1000 msgs | RSS MiB | errors |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const p of phases) {
    console.log(`| ${p.phase} | ${p.rps} | ${p.p50} | ${p.p99} | ${p.cpu_us_per_msg} | ${p.major_gc_per_1000} | ${p.major_gc_ms_per_1000} | ${p.rss_mib} | ${p.errors + p.non2xx} |`);
  }
  console.log(`after idle / warm: req/s ${out.idle_vs_warm.rps}×, CPU per message ${out.idle_vs_warm.cpu}×`);
}

try {
  await main();
} finally {
  stopChildren();
  spawnSync('sleep', ['0.3']);
}
