/**
 * End-to-end stacks on 127.0.0.1, port 0: the MMSC simulator and the proxy
 * (buildProxy, the wiring main.ts runs), built from a real configuration
 * (parseConfig over env), logs captured as parsed records. Every stack
 * closes its servers.
 */
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { buildSim, type Sim } from '@mmsguard/mmsc-sim';
import { parseConfig } from '../apps/proxy/src/config.js';
import { buildEngines } from '../apps/proxy/src/engines.js';
import { createLogger } from '../apps/proxy/src/log.js';
import { buildProxy, type Proxy } from '../apps/proxy/src/proxy.js';

export interface Stack {
  readonly proxy: string;
  readonly mm7: string;
  readonly admin: string;
  readonly sim: Sim;
  readonly simUrl: string;
  readonly logs: Record<string, unknown>[];
  readonly rawLogs: string[];
  /** The proxy itself (the same wiring main.ts runs). */
  readonly proxyApp: Proxy;
  close(): Promise<void>;
}

function url(app: FastifyInstance): string {
  const a = app.server.address();
  return `http://127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}`;
}

/** `env` values may say `{SIM}` for the simulator's URL (its port is known only once it listens). */
export async function startStack(env: Record<string, string> = {}, upstreamOverride?: string): Promise<Stack> {
  const sim = buildSim();
  await sim.app.listen({ host: '127.0.0.1', port: 0 });
  const simUrl = url(sim.app);
  const expanded = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v.replaceAll('{SIM}', simUrl)]));
  const config = parseConfig({
    HOST: '127.0.0.1', MM1_PORT: '0', MM7_PORT: '0', ADMIN_PORT: '0', MM1_UPSTREAM_URL: upstreamOverride ?? simUrl,
    ...expanded,
  });
  const rawLogs: string[] = [];
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _e, cb): void {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() === '') continue;
        rawLogs.push(line);
        try {
          logs.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          // kv format: kept in rawLogs only
        }
      }
      cb();
    },
  });
  let proxy: Proxy;
  try {
    const mm1Url = config.mm1.upstreamUrl ?? simUrl;
    proxy = buildProxy(config, {
      engines: await buildEngines(config.scan), log: createLogger('info', config.logFormat, sink),
      mm1UpstreamUrl: mm1Url, mm7UpstreamUrl: config.mm7.upstreamUrl ?? mm1Url, watchIntervalMs: 100,
    });
  } catch (e) {
    await sim.app.close();
    throw e;
  }
  await proxy.listen();
  return {
    proxy: url(proxy.mm1), mm7: url(proxy.mm7 ?? proxy.mm1), admin: url(proxy.admin), sim, simUrl, logs, rawLogs,
    proxyApp: proxy,
    async close() {
      await proxy.close();
      await sim.app.close();
    },
  };
}

export const MMS = 'application/vnd.wap.mms-message';

export async function post(base: string, pdu: Uint8Array, headers: Record<string, string> = {}): Promise<{ status: number; body: Uint8Array; headers: Headers }> {
  const res = await fetch(`${base}/mms`, { method: 'POST', headers: { 'content-type': MMS, ...headers }, body: pdu });
  return { status: res.status, body: new Uint8Array(await res.arrayBuffer()), headers: res.headers };
}

export async function get(base: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Uint8Array; headers: Headers }> {
  const res = await fetch(`${base}${path}`, { headers });
  return { status: res.status, body: new Uint8Array(await res.arrayBuffer()), headers: res.headers };
}

/** Waits until the verdict record of the n-th message is logged (logging is synchronous, the reply may win the race). */
export async function verdicts(stack: Stack, n: number): Promise<Record<string, unknown>[]> {
  for (let i = 0; i < 100; i++) {
    const v = stack.logs.filter((l) => l['event'] === 'verdict');
    if (v.length >= n) return v;
    await new Promise((r) => setTimeout(r, 10));
  }
  return stack.logs.filter((l) => l['event'] === 'verdict');
}
