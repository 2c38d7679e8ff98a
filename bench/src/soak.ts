/**
 * Overload soak (issue 5): measure capacity, then offer 2× that rate of
 * 300 KB m-send-req for SOAK_SECONDS (default 60), then normal load again.
 * The in-flight budget must hold RSS bounded, excess must get transient
 * replies (503), the proxy must not crash, and throughput must recover.
 * Loopback only, bounded in time; writes results/soak.json (SOAK_OUT).
 * SOAK_PROXY_ENV (JSON) adds proxy settings, e.g. '{"DUPE_THRESHOLDS":"1000000/3600:log"}'.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { freePort, waitFor } from './harness.js';
import { encode, textPart } from 'wap-mms-decoder';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SOAK = Number(process.env['SOAK_SECONDS'] ?? 60);
const CAP = Number(process.env['SOAK_CAPACITY_SECONDS'] ?? 10);
const RECOVER = Number(process.env['SOAK_RECOVER_SECONDS'] ?? 10);
const INFLIGHT = process.env['SOAK_INFLIGHT_LIMIT'] ?? '32MiB';

const rssKb = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);

const children: ChildProcess[] = [];
let exitCode = 0;
try {
  const [simPort, proxyPort, adminPort] = [await freePort(), await freePort(), await freePort()];
  children.push(spawn(process.execPath, [join(ROOT, 'apps/mmsc-sim/dist/main.js')], { env: { PATH: process.env['PATH'] ?? '', SIM_PORT: String(simPort), SIM_STORE: 'off' }, stdio: 'ignore' }));
  await waitFor(`http://127.0.0.1:${simPort}/_sim/received`);
  const proxy = spawn(process.execPath, [join(ROOT, 'apps/proxy/dist/main.js')], {
    env: { PATH: process.env['PATH'] ?? '', HOST: '127.0.0.1', MM1_PORT: String(proxyPort), ADMIN_PORT: String(adminPort), MM1_UPSTREAM_URL: `http://127.0.0.1:${simPort}`, LOG_LEVEL: 'warn', INFLIGHT_LIMIT: INFLIGHT, ...(JSON.parse(process.env['SOAK_PROXY_ENV'] ?? '{}') as Record<string, string>) },
    stdio: 'ignore',
  });
  children.push(proxy);
  let crashed = false;
  proxy.on('exit', () => (crashed = true));
  await waitFor(`http://127.0.0.1:${adminPort}/healthz`);
  const img = new Uint8Array(300 * 1024 - 600);
  for (let i = 0; i < img.length; i++) img[i] = (i * 2654435761) >>> 24;
  const body = Buffer.from(encode({
    headers: [
      { type: 'well-known', code: 0x0c, name: '', value: { kind: 'octet', value: 0x80 } },
      { type: 'well-known', code: 0x18, name: '', value: { kind: 'text', value: 'soak' } },
      { type: 'well-known', code: 0x0d, name: '', value: { kind: 'octet', value: 0x92 } },
    ],
    contentType: { mediaType: 'application/vnd.wap.multipart.mixed', params: [] },
    parts: [textPart('hello', 'a.txt'), { contentType: { mediaType: 'image/jpeg', params: [] }, headers: [], data: img }],
  }));
  const url = `http://127.0.0.1:${proxyPort}/mms`;
  const headers = { 'content-type': 'application/vnd.wap.mms-message' };
  let peak = 0;
  const sampler = setInterval(() => {
    if (!crashed && proxy.pid !== undefined) peak = Math.max(peak, rssKb(proxy.pid));
  }, 250);
  const cap = await autocannon({ url, method: 'POST', body, headers, connections: 10, duration: CAP });
  const capacity = cap.requests.average;
  const over = await autocannon({ url, method: 'POST', body, headers, connections: 200, duration: SOAK, overallRate: Math.max(1, Math.round(capacity * 2)) });
  const rec = await autocannon({ url, method: 'POST', body, headers, connections: 10, duration: RECOVER });
  clearInterval(sampler);
  const statusCounts = over.statusCodeStats as unknown as Record<string, { count: number }>;
  const out = {
    bench: 'soak', date: new Date().toISOString(), node: process.version, cpu: cpus()[0]?.model ?? 'unknown', body_bytes: body.length,
    inflight_limit: INFLIGHT, soak_seconds: SOAK,
    capacity_rps: Math.round(capacity),
    overload: { offered_rps: Math.round(capacity * 2), ok_2xx: over['2xx'], status_503: statusCounts['503']?.count ?? 0, other_non2xx: over.non2xx - (statusCounts['503']?.count ?? 0), errors: over.errors, timeouts: over.timeouts, p99_ms: over.latency.p99 },
    recovery_rps: Math.round(rec.requests.average), recovery_ratio: +(rec.requests.average / capacity).toFixed(2),
    proxy_peak_rss_mib: Math.round(peak / 1024), crashed,
  };
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench/results', process.env['SOAK_OUT'] ?? 'soak.json'), `${JSON.stringify(out, null, 2)}\n`);
  console.log(JSON.stringify(out, null, 2));
  if (crashed || out.recovery_ratio < 0.5) exitCode = 1;
} finally {
  for (const c of children) c.kill('SIGKILL');
}
process.exitCode = exitCode;
