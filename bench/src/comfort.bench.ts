/**
 * CPU and RSS of the proxy while it comforts 1,000 concurrent downloads
 * (MM1_CLIENT_COMFORT=on, INTERVAL 1 s, AMOUNT 100): the simulator trickles
 * each 50 KB response slowly, so every transfer stays in the buffering phase
 * for the whole measurement window. Loopback only; everything is stopped at
 * the end. Writes results/comfort.json.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, get } from 'node:http';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, waitFor } from './harness.js';
import { encode } from 'wap-mms-decoder';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const N = Number(process.env['BENCH_TRANSFERS'] ?? 1000);
const WINDOW_S = Number(process.env['BENCH_WINDOW'] ?? 10);


function cpuTicks(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return Number(f[11]) + Number(f[12]);
}

function rssKb(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
}

const children: ChildProcess[] = [];
try {
  const [simPort, proxyPort, adminPort] = [await freePort(), await freePort(), await freePort()];
  children.push(spawn(process.execPath, [join(ROOT, 'apps/mmsc-sim/dist/main.js')], { env: { PATH: process.env['PATH'] ?? '', SIM_PORT: String(simPort) }, stdio: 'ignore' }));
  await waitFor(`http://127.0.0.1:${simPort}/_sim/received`);
  const proxy = spawn(process.execPath, [join(ROOT, 'apps/proxy/dist/main.js')], {
    env: {
      PATH: process.env['PATH'] ?? '', HOST: '127.0.0.1', MM1_PORT: String(proxyPort), ADMIN_PORT: String(adminPort),
      MM1_UPSTREAM_URL: `http://127.0.0.1:${simPort}`, MM1_CLIENT_COMFORT: 'on', MM1_COMFORT_INTERVAL: '1', MM1_COMFORT_AMOUNT: '100', LOG_LEVEL: 'warn',
    },
    stdio: 'ignore',
  });
  children.push(proxy);
  await waitFor(`http://127.0.0.1:${adminPort}/healthz`);
  const pdu = encode({
    headers: [
      { type: 'well-known', code: 0x0c, name: '', value: { kind: 'octet', value: 0x84 } },
      { type: 'well-known', code: 0x0d, name: '', value: { kind: 'octet', value: 0x92 } },
      { type: 'well-known', code: 0x05, name: '', value: { kind: 'integer', value: 1_700_000_000 } },
    ],
    contentType: { mediaType: 'application/vnd.wap.multipart.mixed', params: [] },
    parts: [{ contentType: { mediaType: 'image/jpeg', params: [] }, headers: [], data: new Uint8Array(50_000).fill(9) }],
  });
  await fetch(`http://127.0.0.1:${simPort}/_sim/messages/m`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: pdu });
  const baseRss = rssKb(proxy.pid ?? 0);
  const agent = new Agent({ maxSockets: Infinity });
  let comfortBytes = 0;
  const reqs = Array.from({ length: N }, () =>
    get(`http://127.0.0.1:${proxyPort}/mms/m`, { agent, headers: { 'x-sim-trickle': '500:1000' } }, (res) => {
      res.on('data', (c: Buffer) => (comfortBytes += c.length));
      res.on('error', () => undefined);
    }).on('error', () => undefined),
  );
  await new Promise((r) => setTimeout(r, 3000));
  const t0 = cpuTicks(proxy.pid ?? 0);
  const bytes0 = comfortBytes;
  let peak = 0;
  for (let i = 0; i < WINDOW_S; i++) {
    await new Promise((r) => setTimeout(r, 1000));
    peak = Math.max(peak, rssKb(proxy.pid ?? 0));
  }
  const ticks = cpuTicks(proxy.pid ?? 0) - t0;
  const hz = 100;
  const out = {
    bench: 'comfort', date: new Date().toISOString(), node: process.version, cpu: cpus()[0]?.model ?? 'unknown', transfers: N, window_s: WINDOW_S,
    interval_s: 1, amount: 100, proxy_cpu_percent: +((ticks / hz / WINDOW_S) * 100).toFixed(1),
    proxy_rss_idle_mib: +(baseRss / 1024).toFixed(1), proxy_rss_peak_mib: +(peak / 1024).toFixed(1),
    comfort_bytes_per_s: Math.round((comfortBytes - bytes0) / WINDOW_S),
  };
  reqs.forEach((r) => r.destroy());
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench/results/comfort.json'), `${JSON.stringify(out, null, 2)}\n`);
  console.log(JSON.stringify(out, null, 2));
} finally {
  for (const c of children) c.kill('SIGKILL');
}
