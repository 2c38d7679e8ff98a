/**
 * Macro bench for flood and duplicate protection: the MM1 bench's 300 KB
 * m-send-req at concurrency 10 and 100, through mmsguard with protection off,
 * flood only and flood+dupe with the in-memory store, and flood+dupe with
 * Redis (a private redis-server from Debian, on the same two cores). "On" is the worst case that still forwards everything: three flood
 * and three duplicate thresholds (six counted hits and two block lookups per
 * message), 10,000 senders round-robin from a trusted gateway header, and one
 * content for all (a spam wave: a single duplicate key holding every event of
 * the hour). Limits are set high so nothing is blocked: we measure counting.
 * Everything on 127.0.0.1, stopped at the end. Writes results/bulk.json.
 *
 *   BENCH_DURATION (s, default 10), BENCH_REPS (default 2), BENCH_CONNECTIONS (default "10,100")
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { createHash } from 'node:crypto';
import { MemoryStore, checkBulkMany, parseThresholds, type CounterStore } from '@mmsguard/policy';
import { RedisStore } from '@mmsguard/state-redis';
import { findRedis, startLocalRedis, type LocalRedis } from '@mmsguard/state-redis/testing';
import { body300k, freePort, median, rssKb, start, stopChildren, waitFor } from './harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(here, '../..');
const DURATION = Number(process.env['BENCH_DURATION'] ?? 10);
const REPS = Number(process.env['BENCH_REPS'] ?? 2);
const CONNS = (process.env['BENCH_CONNECTIONS'] ?? '10,100').split(',').map(Number);
const THRESHOLDS = '1000000/10:log;2000000/60:log;5000000/3600:block+alert:600';
const SENDERS = 10_000;

/** µs per message of the pieces, in this process: what the macro numbers are made of. */
async function micro(redisUrl: string | null): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const body = body300k();
  const time = async (n: number, f: (i: number) => unknown): Promise<number> => {
    for (let i = 0; i < Math.min(n, 200); i++) await f(i);
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await f(i);
    return ((performance.now() - t0) * 1000) / n;
  };
  out['sha256_300k_us'] = await time(2000, () => createHash('sha256').update(body).digest('hex'));
  const th = parseThresholds(THRESHOLDS);
  // One message = a flood check (10,000 senders) and a duplicate check (one spam-wave key), in one
  // step as the proxy does it (one Lua call with Redis).
  const message = (store: CounterStore, i: number, now: number): Promise<unknown> =>
    checkBulkMany(store, [{ kind: 'flood', key: `+479${i % SENDERS}`, thresholds: th }, { kind: 'dupe', key: 'wave', thresholds: th }], now);
  const mem = new MemoryStore();
  const t0 = Date.now();
  // 100,000 messages spread over 100 s of fake time: the wave key holds every event of its windows.
  out['memory_check_us'] = await time(100_000, (i) => message(mem, i, t0 + i));
  if (redisUrl !== null) {
    const r = new RedisStore(redisUrl, `bench-${Date.now()}:`);
    await r.ready();
    out['redis_check_sequential_us'] = await time(5000, (i) => message(r, i, Date.now()));
    // 64 messages in flight, as under load: throughput, not latency.
    const n = 20_000;
    const started = performance.now();
    let next = 0;
    await Promise.all(Array.from({ length: 64 }, async () => {
      while (next < n) await message(r, next++, Date.now());
    }));
    out['redis_check_64_in_flight_us'] = ((performance.now() - started) * 1000) / n;
    await r.close();
  }
  for (const [k, v] of Object.entries(out)) out[k] = Math.round(v * 10) / 10;
  return out;
}

/** The private Redis of this run, stopped at the end. */
const redises: LocalRedis[] = [];

async function main(): Promise<void> {
  const simPort = await freePort();
  start(process.execPath, [join(ROOT, 'apps/mmsc-sim/dist/main.js')], { SIM_PORT: String(simPort), SIM_STORE: 'off' });
  await waitFor(`http://127.0.0.1:${simPort}/_sim/received`);
  if (findRedis() !== null) redises.push(await startLocalRedis());
  else console.warn('NOTICE: redis-server not installed (apt-get install redis-server); the Redis rows are skipped');
  const redisUrl = redises[0]?.url ?? null;
  const pieces = await micro(redisUrl);
  console.log('per message (µs):', JSON.stringify(pieces));

  const variants: { name: string; env: Record<string, string> }[] = [
    { name: 'off', env: {} },
    { name: 'flood only, memory', env: { FLOOD_THRESHOLDS: THRESHOLDS, STATE_STORE: 'memory' } },
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
  // Proof that the protection counted: distinct senders and the one fingerprint in the instance's
  // view right after a run (the first threshold's 10 s window).
  const countedBy = async (t: { name: string; admin: string }): Promise<{ target: string; senders: number; fingerprints: number; top_fingerprint_count: number }> => {
    const get = async (path: string): Promise<{ counts: { count: number }[] }> => (await fetch(`${t.admin}${path}`)).json() as Promise<{ counts: { count: number }[] }>;
    const [senders, fps] = await Promise.all([get('/bulk/senders?limit=10000'), get('/bulk/fingerprints')]);
    return { target: t.name, senders: senders.counts.length, fingerprints: fps.counts.length, top_fingerprint_count: fps.counts[0]?.count ?? 0 };
  };
  const lastCounted = new Map<string, Awaited<ReturnType<typeof countedBy>>>();
  const rows: { target: string; connections: number; rep: number; rps: number; p50: number; p99: number; errors: number }[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    for (const c of CONNS) {
      for (const t of targets) {
        const r = await autocannon({ url: t.url, requests, connections: c, duration: DURATION });
        rows.push({ target: t.name, connections: c, rep, rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.timeouts + r.non2xx });
        process.stderr.write(`${t.name} c${c} rep${rep}: ${r.requests.average} req/s p99 ${r.latency.p99} ms\n`);
        lastCounted.set(t.name, await countedBy(t));
      }
    }
  }
  const summary = CONNS.flatMap((c) => targets.map((t) => {
    const rs = rows.filter((r) => r.target === t.name && r.connections === c);
    return { target: t.name, connections: c, rps: Math.round(median(rs.map((r) => r.rps))), p50: median(rs.map((r) => r.p50)), p99: median(rs.map((r) => r.p99)), errors: rs.reduce((k, r) => k + r.errors, 0) };
  }));
  const memory = targets.map((t) => ({ target: t.name, ...rssKb(t.pid) }));
  const counted = [...lastCounted.values()];
  const out = {
    bench: 'bulk', date: new Date().toISOString(), node: process.version, cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length,
    body_bytes: body.length, duration_s: DURATION, reps: REPS, thresholds: THRESHOLDS, senders: SENDERS, per_message_us: pieces, memory_kb: memory, counted, rows, summary,
  };
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench/results/bulk.json'), `${JSON.stringify(out, null, 2)}\n`);
  const base = new Map(summary.filter((s) => s.target === 'off').map((s) => [s.connections, s.rps]));
  console.log('| flood/dupe protection | connections | req/s | vs off | p50 ms | p99 ms | errors |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const s of summary) console.log(`| ${s.target} | ${s.connections} | ${s.rps} | ${((s.rps / (base.get(s.connections) ?? s.rps)) || 0).toFixed(2)}× | ${s.p50} | ${s.p99} | ${s.errors} |`);
  for (const m of memory) console.log(`${m.target}: RSS ${Math.round(m.rss / 1024)} MiB, peak ${Math.round(m.hwm / 1024)} MiB`);
  for (const c of counted) console.log(`${c.target}: ${c.senders} senders and ${c.fingerprints} fingerprint(s) counted in the 10 s window after its last run (top: ${c.top_fingerprint_count})`);
}

try {
  await main();
} finally {
  stopChildren();
  await Promise.all(redises.map((r) => r.stop()));
  spawnSync('sleep', ['0.3']);
}
