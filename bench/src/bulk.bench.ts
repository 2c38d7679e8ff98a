/**
 * Macro bench for flood and duplicate protection: the MM1 bench's 300 KB
 * m-send-req at concurrency 10 and 100, through mmsguard with protection off,
 * on with the in-memory store, and on with Redis (a private redis-server from
 * Debian). "On" is the worst case that still forwards everything: three flood
 * and three duplicate thresholds (six counted hits and two block lookups per
 * message), 10,000 senders round-robin from a trusted gateway header, and one
 * content for all (a spam wave: a single duplicate key holding every event of
 * the hour). Limits are set high so nothing is blocked: we measure counting.
 * Everything on 127.0.0.1, stopped at the end. Writes results/bulk.json.
 *
 *   BENCH_DURATION (s, default 10), BENCH_REPS (default 2), BENCH_CONNECTIONS (default "10,100")
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { body300k, freePort, median, rssKb, start, stopChildren, waitFor } from './harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(here, '../..');
const DURATION = Number(process.env['BENCH_DURATION'] ?? 10);
const REPS = Number(process.env['BENCH_REPS'] ?? 2);
const CONNS = (process.env['BENCH_CONNECTIONS'] ?? '10,100').split(',').map(Number);
const THRESHOLDS = '1000000/10:log;2000000/60:log;5000000/3600:block+alert:600';
const SENDERS = 10_000;

async function redisUp(port: number): Promise<boolean> {
  const { connect } = await import('node:net');
  return new Promise((res) => {
    const s = connect(port, '127.0.0.1', () => s.write('PING\r\n'));
    s.once('data', (d) => {
      s.destroy();
      res(d.toString().startsWith('+PONG'));
    });
    s.once('error', () => res(false));
  });
}

async function main(): Promise<void> {
  const simPort = await freePort();
  start(process.execPath, [join(ROOT, 'apps/mmsc-sim/dist/main.js')], { SIM_PORT: String(simPort), SIM_STORE: 'off' });
  await waitFor(`http://127.0.0.1:${simPort}/_sim/received`);
  let redisUrl: string | null = null;
  const redisBin = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => existsSync(p));
  if (redisBin !== undefined) {
    const port = await freePort();
    start(redisBin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {});
    for (let i = 0; i < 100 && !(await redisUp(port)); i++) await new Promise((r) => setTimeout(r, 100));
    redisUrl = `redis://127.0.0.1:${port}`;
  } else console.warn('NOTICE: redis-server not installed (apt-get install redis-server); the Redis rows are skipped');

  const variants: { name: string; env: Record<string, string> }[] = [
    { name: 'off', env: {} },
    { name: 'flood+dupe, memory', env: { FLOOD_THRESHOLDS: THRESHOLDS, DUPE_THRESHOLDS: THRESHOLDS, STATE_STORE: 'memory' } },
  ];
  if (redisUrl !== null) variants.push({ name: 'flood+dupe, Redis', env: { FLOOD_THRESHOLDS: THRESHOLDS, DUPE_THRESHOLDS: THRESHOLDS, STATE_STORE: redisUrl } });
  const targets: { name: string; url: string; pid: number; admin: string }[] = [];
  for (const v of variants) {
    const port = await freePort();
    const admin = await freePort();
    const p = start(process.execPath, [join(ROOT, 'apps/proxy/dist/main.js')], {
      HOST: '127.0.0.1', MM1_PORT: String(port), ADMIN_PORT: String(admin), MM1_UPSTREAM_URL: `http://127.0.0.1:${simPort}`,
      LOG_LEVEL: 'error', TRUSTED_GATEWAYS: '127.0.0.1', ...v.env,
    });
    await waitFor(`http://127.0.0.1:${admin}/healthz`);
    targets.push({ name: v.name, url: `http://127.0.0.1:${port}/mms`, pid: p.pid ?? 0, admin: `http://127.0.0.1:${admin}` });
  }
  const body = body300k();
  let n = 0;
  // Each request gets the next of 10,000 senders, as a WAP gateway would set them.
  const requests: autocannon.Request[] = [{
    method: 'POST', body,
    setupRequest: (req) => ({
      ...req, headers: { 'content-type': 'application/vnd.wap.mms-message', 'x-wap-network-client-msisdn': `+479${String(n++ % SENDERS).padStart(7, '0')}` },
    }),
  }];
  for (const t of targets) await autocannon({ url: t.url, requests, connections: 10, duration: 3 });
  const rows: { target: string; connections: number; rep: number; rps: number; p50: number; p99: number; errors: number }[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    for (const c of CONNS) {
      for (const t of targets) {
        const r = await autocannon({ url: t.url, requests, connections: c, duration: DURATION });
        rows.push({ target: t.name, connections: c, rep, rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.timeouts + r.non2xx });
        process.stderr.write(`${t.name} c${c} rep${rep}: ${r.requests.average} req/s p99 ${r.latency.p99} ms\n`);
      }
    }
  }
  const summary = CONNS.flatMap((c) => targets.map((t) => {
    const rs = rows.filter((r) => r.target === t.name && r.connections === c);
    return { target: t.name, connections: c, rps: Math.round(median(rs.map((r) => r.rps))), p50: median(rs.map((r) => r.p50)), p99: median(rs.map((r) => r.p99)), errors: rs.reduce((k, r) => k + r.errors, 0) };
  }));
  const memory = targets.map((t) => ({ target: t.name, ...rssKb(t.pid) }));
  // Proof that the protection counted: distinct senders and the one fingerprint in each instance's view.
  const counted = await Promise.all(targets.map(async (t) => {
    const get = async (path: string): Promise<{ counts: { count: number }[] }> => (await fetch(`${t.admin}${path}`)).json() as Promise<{ counts: { count: number }[] }>;
    const [senders, fps] = await Promise.all([get('/bulk/senders?limit=10000'), get('/bulk/fingerprints')]);
    return { target: t.name, senders: senders.counts.length, fingerprints: fps.counts.length, top_fingerprint_count: fps.counts[0]?.count ?? 0 };
  }));
  const out = {
    bench: 'bulk', date: new Date().toISOString(), node: process.version, cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length,
    body_bytes: body.length, duration_s: DURATION, reps: REPS, thresholds: THRESHOLDS, senders: SENDERS, memory_kb: memory, counted, rows, summary,
  };
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench/results/bulk.json'), `${JSON.stringify(out, null, 2)}\n`);
  const base = new Map(summary.filter((s) => s.target === 'off').map((s) => [s.connections, s.rps]));
  console.log('| flood/dupe protection | connections | req/s | vs off | p50 ms | p99 ms | errors |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const s of summary) console.log(`| ${s.target} | ${s.connections} | ${s.rps} | ${((s.rps / (base.get(s.connections) ?? s.rps)) || 0).toFixed(2)}× | ${s.p50} | ${s.p99} | ${s.errors} |`);
  for (const m of memory) console.log(`${m.target}: RSS ${Math.round(m.rss / 1024)} MiB, peak ${Math.round(m.hwm / 1024)} MiB`);
  for (const c of counted) console.log(`${c.target}: ${c.senders} senders and ${c.fingerprints} fingerprint(s) counted in the 10 s window (top: ${c.top_fingerprint_count})`);
}

try {
  await main();
} finally {
  stopChildren();
  spawnSync('sleep', ['0.3']);
}
