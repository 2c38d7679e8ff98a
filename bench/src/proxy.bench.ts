/**
 * Macro bench: 300 KB m-send-req POSTs at concurrency 10 and 100, with
 * autocannon, against (a) the MMSC simulator directly, (b) mmsguard (decode +
 * built-in scan) in front of it, (c) nginx from Debian in front of it
 * (proxy_request_buffering on, body kept in memory, 1 worker). Targets are
 * interleaved, each run bounded in time; everything on 127.0.0.1 and stopped
 * at the end. Writes results/proxy.json.
 *
 *   BENCH_DURATION (s, default 10), BENCH_REPS (default 2), BENCH_CONNECTIONS (default "10,100")
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { body300k, freePort, median, rssKb, start, stopChildren, waitFor } from './harness.js';

const here = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(here, '../..');
const DURATION = Number(process.env['BENCH_DURATION'] ?? 10);
const REPS = Number(process.env['BENCH_REPS'] ?? 2);
const CONNS = (process.env['BENCH_CONNECTIONS'] ?? '10,100').split(',').map(Number);


async function main(): Promise<void> {
  const simPort = await freePort();
  const proxyPort = await freePort();
  const adminPort = await freePort();
  start(process.execPath, [join(ROOT, 'apps/mmsc-sim/dist/main.js')], { SIM_PORT: String(simPort), SIM_STORE: 'off' });
  await waitFor(`http://127.0.0.1:${simPort}/_sim/received`);
  const proxy = start(process.execPath, [join(ROOT, 'apps/proxy/dist/main.js')], {
    HOST: '127.0.0.1', MM1_PORT: String(proxyPort), ADMIN_PORT: String(adminPort), MM1_UPSTREAM_URL: `http://127.0.0.1:${simPort}`, LOG_LEVEL: 'warn',
  });
  await waitFor(`http://127.0.0.1:${adminPort}/healthz`);
  const targets: { name: string; url: string }[] = [
    { name: 'direct (simulator)', url: `http://127.0.0.1:${simPort}/mms` },
    { name: 'mmsguard (decode + builtin scan)', url: `http://127.0.0.1:${proxyPort}/mms` },
  ];
  let nginxDir: string | null = null;
  const nginxBin = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p));
  if (nginxBin !== undefined) {
    nginxDir = mkdtempSync(join(tmpdir(), 'bench-nginx-'));
    const port = await freePort();
    writeFileSync(join(nginxDir, 'nginx.conf'), `
worker_processes 1;
error_log ${nginxDir}/error.log warn;
pid ${nginxDir}/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${nginxDir}/body;
  proxy_temp_path ${nginxDir}/proxy;
  upstream mmsc { server 127.0.0.1:${simPort}; keepalive 128; }
  server {
    listen 127.0.0.1:${port};
    client_max_body_size 20m;
    client_body_buffer_size 2m;
    location / {
      proxy_request_buffering on;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_pass http://mmsc;
    }
  }
}
`);
    start(nginxBin, ['-c', join(nginxDir, 'nginx.conf'), '-p', nginxDir, '-g', 'daemon off;'], {});
    await waitFor(`http://127.0.0.1:${port}/`);
    targets.push({ name: 'nginx (buffering, in memory, 1 worker)', url: `http://127.0.0.1:${port}/mms` });
  } else {
    console.warn('NOTICE: nginx not installed (apt-get install nginx-light); nginx rows skipped');
  }
  const body = body300k();
  const headers = { 'content-type': 'application/vnd.wap.mms-message' };
  // Warm-up: JIT and connection pools.
  for (const t of targets) await autocannon({ url: t.url, method: 'POST', body, headers, connections: 10, duration: 3 });
  const rows: { target: string; connections: number; rep: number; rps: number; p50: number; p99: number; errors: number; non2xx: number }[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    for (const c of CONNS) {
      for (const t of targets) {
        const r = await autocannon({ url: t.url, method: 'POST', body, headers, connections: c, duration: DURATION });
        rows.push({ target: t.name, connections: c, rep, rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.timeouts, non2xx: r.non2xx });
        process.stderr.write(`${t.name} c${c} rep${rep}: ${r.requests.average} req/s p99 ${r.latency.p99} ms\n`);
      }
    }
  }
  const mem = proxy.pid !== undefined ? rssKb(proxy.pid) : { rss: 0, hwm: 0 };
  const summary = CONNS.flatMap((c) => targets.map((t) => {
    const rs = rows.filter((r) => r.target === t.name && r.connections === c);
    return { target: t.name, connections: c, rps: Math.round(median(rs.map((r) => r.rps))), p50: median(rs.map((r) => r.p50)), p99: median(rs.map((r) => r.p99)), errors: rs.reduce((n, r) => n + r.errors + r.non2xx, 0) };
  }));
  const out = {
    bench: 'proxy', date: new Date().toISOString(), node: process.version, cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length,
    body_bytes: body.length, duration_s: DURATION, reps: REPS, proxy_rss_kb: mem.rss, proxy_peak_rss_kb: mem.hwm, rows, summary,
  };
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench/results/proxy.json'), `${JSON.stringify(out, null, 2)}\n`);
  console.log('| target | connections | req/s | p50 ms | p99 ms | errors |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const s of summary) console.log(`| ${s.target} | ${s.connections} | ${s.rps} | ${s.p50} | ${s.p99} | ${s.errors} |`);
  console.log(`proxy RSS ${Math.round(mem.rss / 1024)} MiB, peak ${Math.round(mem.hwm / 1024)} MiB`);
  if (nginxDir !== null) rmSync(nginxDir, { recursive: true, force: true });
}

try {
  await main();
} finally {
  stopChildren();
  spawnSync('sleep', ['0.3']);
}
