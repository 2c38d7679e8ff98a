/**
 * Macro bench (issue 15, "the bench shows the peers"): 300 KiB m-send-req POSTs from autocannon (in this process;
 * its CPU is never counted) at each of BENCH_CONNECTIONS, through each target, to one trivial upstream in its own
 * process (src/trivial-upstream.ts). Targets, each in its own processes on 127.0.0.1 with private configs, ports
 * and temp dirs, all stopped at the end:
 *   - direct: the trivial upstream alone (reference: the ceiling of the upstream and the load generator);
 *   - nginx (Debian nginx-light), buffering pass-through, 1 worker, no scan;
 *   - Node's floor (src/floor-forward.ts): node:http + undici buffer-and-forward, no decode, no scan, no logs;
 *   - the floor + SHA-256 of every body (FLOOR_DIGEST): the floor plus the digest CONTRACT §7 requires of every
 *     forwarded part, so the distance from the floor can be split into that digest and the rest;
 *   - mmsguard, built-in engine; mmsguard + clamd (SCAN_ENGINES=builtin,clamd); mmsguard with WORKERS=2;
 *   - squid (accel, reverse proxy) + c-icap virus_scan (REQMOD) + clamd: the open-source stack an operator
 *     would deploy instead. First checked to scan: an EICAR POST through it must be refused.
 * CPU per message = utime+stime (+ reaped children) of the target's processes and all their descendants, from
 * /proc/<pid>/stat before and after a run, ÷ responses in that run. clamd is counted in the rows that use it.
 * Each rep gives every target a warm-up then one run per connection count, so a target is loaded without a pause
 * when measured ("warm"). After the last rep every target is left idle ≥ BENCH_IDLE_SECONDS, then the first
 * min(10, BENCH_DURATION) s of load at the largest connection count are measured ("after idle").
 * Targets whose Debian packages are missing are skipped with a NOTICE. Writes results/proxy.json (BENCH_OUT).
 *
 *   BENCH_DURATION (s per run, default 10), BENCH_REPS (default 2), BENCH_CONNECTIONS (default "10,100"),
 *   BENCH_TARGETS (default all: direct,nginx,floor,floor-sha256,builtin,clamd,workers,squid; a comma list runs
 *   only those, e.g. "floor,floor-sha256,builtin" for more reps of the floor comparison in the same time),
 *   BENCH_OUT (file name under results/, default proxy.json), BENCH_RATE (req/s in all, default 0 = unbounded: CPU
 *   per message at a low rate, where every Node process pays more per message than at saturation),
 *   BENCH_WARMUP (s, default BENCH_DURATION), BENCH_IDLE_SECONDS (default 60),
 *   BENCH_NODE_ARGS (node flags of mmsguard, default "--no-memory-reducer": what `pnpm start` runs it with)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { findClamd, startLocalClamd, type LocalClamd } from '@mmsguard/scan-clamd/testing';
import { body300k, freePort, median, sendReqWith, start, stopChildrenAndWait, waitFor } from './harness.js';
import { dpkgVersion, startNginx, startSquidStack, stopPeers } from './peers.js';

const here = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(here, '../..');
const DURATION = Number(process.env['BENCH_DURATION'] ?? 10);
const REPS = Number(process.env['BENCH_REPS'] ?? 2);
const CONNS = (process.env['BENCH_CONNECTIONS'] ?? '10,100').split(',').map(Number);
const WARMUP = Number(process.env['BENCH_WARMUP'] ?? DURATION);
const IDLE = Number(process.env['BENCH_IDLE_SECONDS'] ?? 60);
const NODE_ARGS = (process.env['BENCH_NODE_ARGS'] ?? '--no-memory-reducer').split(/\s+/).filter((a) => a !== '');
const IDLE_WINDOW = Math.min(10, DURATION);
/** Requests per second in all (autocannon's overallRate); 0: as fast as the target answers. */
const RATE = Number(process.env['BENCH_RATE'] ?? 0);
if (!Number.isInteger(RATE) || RATE < 0) throw new Error('BENCH_RATE must be a whole number of requests per second');
const ALL_TARGETS = ['direct', 'nginx', 'floor', 'floor-sha256', 'builtin', 'clamd', 'workers', 'squid'] as const;
type TargetId = typeof ALL_TARGETS[number];
const WANTED = new Set((process.env['BENCH_TARGETS'] ?? ALL_TARGETS.join(',')).split(',').map((t) => t.trim()));
for (const t of WANTED) {
  if (!(ALL_TARGETS as readonly string[]).includes(t)) throw new Error(`BENCH_TARGETS: unknown target ${t}`);
}
const wanted = (t: TargetId): boolean => WANTED.has(t);
/** The results file under bench/results: a focused run (BENCH_TARGETS) should not replace the full one. */
const OUT = process.env['BENCH_OUT'] ?? 'proxy.json';
if (!/^[\w.-]+\.json$/.test(OUT)) throw new Error(`BENCH_OUT must be a file name ending in .json, not ${OUT}`);
const C_MAX = Math.max(...CONNS);
const TICK = Number(spawnSync('getconf', ['CLK_TCK']).stdout?.toString().trim() || 100);
// Built from two halves so this file is not itself an EICAR test file.
const EICAR = ['X5O!P%@AP[4\\PZX54(P^)7CC)7}$', 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'].join('');

/** A process tree whose CPU belongs to a target; `label` names it in the per-component split. */
interface Component { readonly label: string; readonly pid: number }
interface Target {
  readonly name: string; readonly url: string; readonly components: readonly Component[];
  /** When its last load ended (ms). */
  idleFrom: number;
}
interface Run {
  target: string; phase: 'warm' | 'after idle'; connections: number; rep: number; rps: number; requests: number;
  p50: number; p99: number; errors: number; non2xx: number;
  /** null when no response came back in the run: nothing to divide by. */
  cpu_us_per_msg: number | null; cpu_us_per_msg_by: Record<string, number | null>; idle_s?: number;
}

/** utime+stime+cutime+cstime in µs and the parent of every process (stat(5) fields 4, 14–17). */
function processTable(): Map<number, { ppid: number; cpuUs: number }> {
  const table = new Map<number, { ppid: number; cpuUs: number }>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${d}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    table.set(Number(d), { ppid: Number(f[1]), cpuUs: (ticks * 1e6) / TICK });
  }
  return table;
}

/** CPU µs of each component: its process and every descendant (nginx workers, c-icap children, cluster workers). */
function componentCpu(components: readonly Component[]): Map<string, number> {
  const table = processTable();
  const kids = new Map<number, number[]>();
  for (const [pid, p] of table) kids.set(p.ppid, [...(kids.get(p.ppid) ?? []), pid]);
  const out = new Map<string, number>();
  for (const c of components) {
    let sum = 0;
    const todo = [c.pid];
    for (let pid = todo.pop(); pid !== undefined; pid = todo.pop()) {
      sum += table.get(pid)?.cpuUs ?? 0;
      todo.push(...(kids.get(pid) ?? []));
    }
    out.set(c.label, (out.get(c.label) ?? 0) + sum);
  }
  return out;
}

const childCount = (pid: number): number => [...processTable().values()].filter((p) => p.ppid === pid).length;

const body = body300k();
const MMS_TYPE = 'application/vnd.wap.mms-message';
const HEADERS = { 'content-type': MMS_TYPE };

async function load(t: Target, connections: number, seconds: number, rate = RATE): Promise<autocannon.Result> {
  return autocannon({
    url: t.url, method: 'POST', body, headers: HEADERS, connections, duration: seconds,
    ...(rate > 0 ? { overallRate: rate } : {}),
  });
}

async function measure(t: Target, phase: Run['phase'], connections: number, seconds: number, rep: number,
): Promise<Run> {
  const before = componentCpu(t.components);
  const r = await load(t, connections, seconds);
  const after = componentCpu(t.components);
  const n = r.requests.total;
  const by: Record<string, number | null> = {};
  for (const [label, us] of after) by[label] = n === 0 ? null : Math.round((us - (before.get(label) ?? 0)) / n);
  const run: Run = {
    target: t.name, phase, connections, rep, rps: Math.round(r.requests.average), requests: r.requests.total,
    p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.timeouts, non2xx: r.non2xx,
    cpu_us_per_msg: n === 0 ? null : Object.values(by).reduce((a: number, b) => a + (b ?? 0), 0), cpu_us_per_msg_by: by,
  };
  process.stderr.write(`${t.name} ${phase} c${connections}: ${run.rps} req/s, p99 ${run.p99} ms, `
    + `${run.cpu_us_per_msg} µs CPU/msg ${JSON.stringify(by)}, errors ${run.errors}, non-2xx ${run.non2xx}\n`);
  return run;
}

let clamd: LocalClamd | null = null;

async function cleanup(): Promise<void> {
  await stopChildrenAndWait();
  await stopPeers();
  await clamd?.stop();
}

async function startMmsguard(name: string, upstream: number, env: Record<string, string>): Promise<Target> {
  const port = await freePort();
  const admin = await freePort();
  const c = start(process.execPath, [...NODE_ARGS, join(ROOT, 'apps/proxy/dist/main.js')], {
    HOST: '127.0.0.1', MM1_PORT: String(port), ADMIN_PORT: String(admin),
    MM1_UPSTREAM_URL: `http://127.0.0.1:${upstream}`, LOG_LEVEL: 'warn', ...env,
  });
  await waitFor(`http://127.0.0.1:${admin}/healthz`);
  return target(name, port, [{ label: 'mmsguard', pid: c.pid as number }]);
}

function target(name: string, port: number, components: Component[]): Target {
  return { name, url: `http://127.0.0.1:${port}/mms`, components, idleFrom: 0 };
}

/** What the open-source stack answers: a raw EICAR upload must be refused, else its row measures no scan. */
async function scanCheck(url: string): Promise<Record<string, number>> {
  const post = async (b: Uint8Array, type: string): Promise<number> =>
    (await fetch(url, { method: 'POST', body: b, headers: { 'content-type': type } })).status;
  return {
    eicar_file: await post(new TextEncoder().encode(EICAR), 'application/octet-stream'),
    eicar_in_mms_part: await post(sendReqWith(new TextEncoder().encode(EICAR), 'text/plain', 'e.com'), MMS_TYPE),
    clean_300k_mms: await post(body, MMS_TYPE),
  };
}

const notices: string[] = [];
function notice(s: string): void {
  notices.push(s);
  console.warn(`NOTICE: ${s}`);
}

/** Every target whose software is here, in the order they are run; the squid stack's scan check on the side. */
async function startFloor(name: string, upPort: number, env: Record<string, string>): Promise<Target> {
  const port = await freePort();
  const floor = start(process.execPath, [join(ROOT, 'bench/dist/floor-forward.js')], {
    FLOOR_PORT: String(port), UPSTREAM_URL: `http://127.0.0.1:${upPort}`, ...env,
  });
  await waitFor(`http://127.0.0.1:${port}/`);
  return target(name, port, [{ label: 'node', pid: floor.pid as number }]);
}

const FLOOR = "bare node:http + undici forward (Node's floor)";
const FLOOR_SHA256 = "Node's floor + SHA-256 of every body";

/** Every target asked for whose software is here, in the order they are run; the squid stack's scan check. */
async function startTargets(upPort: number, upPid: number,
): Promise<{ targets: Target[]; scan: Record<string, number> | null }> {
  const targets: Target[] = [];
  if (wanted('direct')) {
    targets.push(target('direct (trivial upstream, reference)', upPort, [{ label: 'upstream', pid: upPid }]));
  }
  if (wanted('nginx') && existsSync('/usr/sbin/nginx')) {
    const n = await startNginx(upPort);
    const name = 'nginx, buffering pass-through (no scan)';
    targets.push(target(name, n.port, [{ label: 'nginx', pid: n.pids['nginx'] ?? 0 }]));
  }
  else if (wanted('nginx')) notice('nginx not installed (apt-get install nginx-light): nginx row not measured');
  if (wanted('floor')) targets.push(await startFloor(FLOOR, upPort, {}));
  if (wanted('floor-sha256')) targets.push(await startFloor(FLOOR_SHA256, upPort, { FLOOR_DIGEST: 'sha256' }));
  if (wanted('builtin')) targets.push(await startMmsguard('mmsguard, built-in engine', upPort, {}));
  const needClamd = wanted('clamd') || wanted('squid');
  if (needClamd && findClamd() === null) {
    notice('clamd not installed (apt-get install clamav-daemon): clamd rows not measured');
  } else if (needClamd) clamd = await startLocalClamd({ databaseDir: join(ROOT, 'packages/scan-clamd/signatures') });
  if (clamd !== null && wanted('clamd')) {
    const env = { SCAN_ENGINES: 'builtin,clamd', CLAMD_ADDRESS: `unix:${clamd.socket}` };
    const t = await startMmsguard('mmsguard + clamd', upPort, env);
    targets.push({ ...t, components: [...t.components, { label: 'clamd', pid: clamd.pid }] });
  }
  const workers = !wanted('workers') ? null
    : await startMmsguard('mmsguard, WORKERS=2', upPort, { WORKERS: '2' }).catch((e: unknown) => {
      notice(`mmsguard with WORKERS=2 did not start (${String(e)}): row not measured`);
      return null;
    });
  if (workers !== null) {
    // A build without WORKERS ignores the variable and serves alone: that would be the single-process row again.
    // The primary forks the first worker, then the rest, each when the one before is up: seconds on a busy box.
    let n = 0;
    for (let i = 0; i < 100 && (n = childCount(workers.components[0]?.pid ?? 0)) < 2; i++) {
      await new Promise((r) => setTimeout(r, 200));
    }
    if (n >= 2) targets.push(workers);
    else notice(`apps/proxy forked ${n} of 2 workers for WORKERS=2 in 20 s: row not measured`);
  }
  if (!wanted('squid')) return { targets, scan: null };
  const missing = ['squid', 'c-icap', 'libc-icap-mod-virus-scan'].filter((p) => dpkgVersion(p) === null);
  if (clamd === null) missing.push('clamav-daemon');
  if (missing.length > 0 || clamd === null) {
    notice(`${missing.join(', ')} not installed (apt-get install ${missing.join(' ')}): squid row not measured`);
    return { targets, scan: null };
  }
  const sq = await startSquidStack(upPort, clamd.socket);
  const t = target('squid + c-icap virus_scan + clamd', sq.port, [
    ...Object.entries(sq.pids).map(([label, pid]) => ({ label, pid })), { label: 'clamd', pid: clamd.pid },
  ]);
  const scan = await scanCheck(t.url);
  console.log(`squid + c-icap + clamd scan check (HTTP status): ${JSON.stringify(scan)}`);
  if (scan['eicar_file'] !== 403) notice('squid + c-icap did not refuse an EICAR upload: its row measures no scan');
  targets.push(t);
  return { targets, scan };
}

async function main(): Promise<void> {
  const upPort = await freePort();
  const up = start(process.execPath, [join(ROOT, 'bench/dist/trivial-upstream.js')], { UPSTREAM_PORT: String(upPort) });
  await waitFor(`http://127.0.0.1:${upPort}/`);
  const { targets, scan } = await startTargets(upPort, up.pid as number);
  const loadStart = loadavg();
  const runs: Run[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    for (const t of targets) {
      // Unbounded even with BENCH_RATE: 500 messages at 50 req/s leave the JIT cold (mmsguard's first rep at 50
      // req/s cost 3,240 µs per message, its third 1,800), and a proxy that has run for minutes is warm.
      await load(t, CONNS[0] ?? 10, WARMUP, 0);
      for (const c of CONNS) runs.push(await measure(t, 'warm', c, DURATION, rep));
      t.idleFrom = Date.now();
    }
  }
  const lastLoad = Math.max(...targets.map((t) => t.idleFrom));
  process.stderr.write(`idle ${IDLE} s …\n`);
  await new Promise((r) => setTimeout(r, Math.max(0, lastLoad + IDLE * 1000 - Date.now())));
  for (const t of targets) {
    const idleS = Math.round((Date.now() - t.idleFrom) / 1000);
    runs.push({ ...(await measure(t, 'after idle', C_MAX, IDLE_WINDOW, 0)), idle_s: idleS });
  }
  report(targets, runs, scan, loadStart);
}

/** A target at one connection count in one phase: the median of its reps (after idle: its one window). */
interface Row {
  target: string; phase: Run['phase']; connections: number; idle_s: number | null; requests: number; rps: number;
  p50: number; p99: number; errors: number; non2xx: number; cpu_us_per_msg: number | null;
  cpu_us_per_msg_by: Record<string, number | null>;
}

const ratio = (a: number | null | undefined, b: number | null | undefined): number | null =>
  (a === null || a === undefined || b === null || b === undefined || b === 0 ? null : +(a / b).toFixed(2));
const medianOrNull = (xs: (number | null)[]): number | null => {
  const ok = xs.filter((x): x is number => x !== null);
  return ok.length === 0 ? null : Math.round(median(ok));
};

function summarise(targets: readonly Target[], runs: readonly Run[]): Row[] {
  return targets.flatMap((t) => [...CONNS.map((c) => ['warm', c] as const), ['after idle', C_MAX] as const]
    .map(([phase, c]): Row | null => {
      const rs = runs.filter((r) => r.target === t.name && r.phase === phase && r.connections === c);
      if (rs.length === 0) return null;
      const by: Record<string, number | null> = {};
      for (const k of Object.keys(rs[0]?.cpu_us_per_msg_by ?? {})) {
        by[k] = medianOrNull(rs.map((r) => r.cpu_us_per_msg_by[k] ?? null));
      }
      return {
        target: t.name, phase, connections: c, idle_s: rs[0]?.idle_s ?? null,
        requests: rs.reduce((n, r) => n + r.requests, 0), rps: Math.round(median(rs.map((r) => r.rps))),
        p50: median(rs.map((r) => r.p50)), p99: median(rs.map((r) => r.p99)),
        errors: rs.reduce((n, r) => n + r.errors, 0), non2xx: rs.reduce((n, r) => n + r.non2xx, 0),
        cpu_us_per_msg: medianOrNull(rs.map((r) => r.cpu_us_per_msg)), cpu_us_per_msg_by: by,
      };
    })
    .filter((r): r is Row => r !== null));
}

function report(targets: Target[], runs: Run[], scan: Record<string, number> | null, loadStart: number[]): void {
  const rows = summarise(targets, runs);
  const find = (prefix: string, c: number, phase: Run['phase']): Row | undefined =>
    rows.find((s) => s.target.startsWith(prefix) && s.connections === c && s.phase === phase);
  const ratios = rows.filter((s) => s.target.startsWith('mmsguard')).map((s) => {
    const floor = find(FLOOR, s.connections, s.phase);
    const floorDigest = find(FLOOR_SHA256, s.connections, s.phase);
    const nginx = find('nginx', s.connections, s.phase);
    return {
      target: s.target, phase: s.phase, connections: s.connections,
      cpu_vs_floor: ratio(s.cpu_us_per_msg, floor?.cpu_us_per_msg),
      // mmsguard's own processes only: clamd's CPU is the same work whoever asks it.
      mmsguard_only_cpu_vs_floor: ratio(s.cpu_us_per_msg_by['mmsguard'], floor?.cpu_us_per_msg),
      cpu_vs_floor_sha256: ratio(s.cpu_us_per_msg, floorDigest?.cpu_us_per_msg),
      cpu_vs_nginx: ratio(s.cpu_us_per_msg, nginx?.cpu_us_per_msg), p99_vs_nginx: ratio(s.p99, nginx?.p99),
      rps_vs_nginx: ratio(s.rps, nginx?.rps),
    };
  });
  const afterIdleVsWarm = targets.map((t) => {
    const w = find(t.name, C_MAX, 'warm');
    const i = find(t.name, C_MAX, 'after idle');
    return {
      target: t.name, connections: C_MAX, rps: ratio(i?.rps, w?.rps), cpu: ratio(i?.cpu_us_per_msg, w?.cpu_us_per_msg),
    };
  });
  const out = {
    bench: 'proxy', targets: [...WANTED], date: new Date().toISOString(),
    machine: {
      cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, loadavg_start: loadStart, loadavg_end: loadavg(),
    },
    node: process.version, mmsguard_node_args: NODE_ARGS,
    versions: Object.fromEntries(['nginx-light', 'squid', 'c-icap', 'libc-icap-mod-virus-scan', 'clamav-daemon']
      .map((p) => [p, dpkgVersion(p)])),
    body_bytes: body.length, rate_per_s: RATE, duration_s: DURATION, warmup_s: WARMUP, reps: REPS, idle_s: IDLE,
    idle_window_s: IDLE_WINDOW,
    notices, squid_scan_check: scan, summary: rows, ratios, after_idle_vs_warm: afterIdleVsWarm, runs,
  };
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench/results', OUT), `${JSON.stringify(out, null, 2)}\n`);
  const table = (head: string[], lines: (string | number | null)[][]): void => {
    console.log(`\n| ${head.join(' | ')} |\n|${head.map(() => '---').join('|')}|`);
    for (const l of lines) console.log(`| ${l.map((x) => x ?? '—').join(' | ')} |`);
  };
  table(['target', 'phase', 'conns', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'non-2xx', 'CPU µs/msg', 'split'],
    rows.map((s) => [
      s.target, s.phase === 'warm' ? 'warm' : `after ${s.idle_s} s idle, first ${IDLE_WINDOW} s`, s.connections, s.rps,
      s.p50, s.p99, s.errors, s.non2xx, s.cpu_us_per_msg,
      Object.keys(s.cpu_us_per_msg_by).length < 2 ? ''
        : Object.entries(s.cpu_us_per_msg_by).map(([k, v]) => `${k} ${v}`).join(', '),
    ]));
  table(['mmsguard target', 'phase', 'conns', 'CPU ÷ floor', 'mmsguard only ÷ floor', 'CPU ÷ (floor + SHA-256)',
    'CPU ÷ nginx', 'p99 ÷ nginx', 'req/s ÷ nginx'],
    ratios.map((r) => [r.target, r.phase, r.connections, r.cpu_vs_floor, r.mmsguard_only_cpu_vs_floor,
      r.cpu_vs_floor_sha256, r.cpu_vs_nginx, r.p99_vs_nginx, r.rps_vs_nginx]));
  table([`after idle ÷ warm, c${C_MAX}`, 'req/s', 'CPU/msg'], afterIdleVsWarm.map((w) => [w.target, w.rps, w.cpu]));
  for (const n of notices) console.log(`NOTICE: ${n}`);
}

try {
  await main();
} finally {
  await cleanup();
}
