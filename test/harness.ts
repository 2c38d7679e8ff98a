/**
 * End-to-end stacks on 127.0.0.1, port 0: the MMSC simulator and the proxy,
 * built from a real configuration (parseConfig over env), logs captured as
 * parsed records. Every stack closes its servers.
 */
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { buildSim, type Sim } from '@mmsguard/mmsc-sim';
import { buildAdminApp, buildMm1App, buildMm7App } from '../apps/proxy/src/app.js';
import { createContext, type ProxyContext } from '../apps/proxy/src/context.js';
import { parseConfig } from '../apps/proxy/src/config.js';
import { buildEngines } from '../apps/proxy/src/engines.js';
import { createLogger } from '../apps/proxy/src/log.js';
import { Upstream } from '../apps/proxy/src/upstream.js';

export interface Stack {
  readonly proxy: string;
  readonly mm7: string;
  readonly admin: string;
  readonly sim: Sim;
  readonly simUrl: string;
  readonly logs: Record<string, unknown>[];
  readonly rawLogs: string[];
  close(): Promise<void>;
}

function url(app: FastifyInstance): string {
  const a = app.server.address();
  return `http://127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}`;
}

export async function startStack(env: Record<string, string> = {}, upstreamOverride?: string): Promise<Stack> {
  const sim = buildSim();
  await sim.app.listen({ host: '127.0.0.1', port: 0 });
  const simUrl = url(sim.app);
  const config = parseConfig({ HOST: '127.0.0.1', MM1_PORT: '0', ADMIN_PORT: '0', MM1_UPSTREAM_URL: upstreamOverride ?? simUrl, ...env });
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
  const upstream = new Upstream(config.mm1.upstreamUrl ?? simUrl, config.upstreamTimeoutMs, config.upstreamConnections);
  let ctx: ProxyContext;
  try {
    ctx = createContext(config, await buildEngines(config.scan), createLogger('info', config.logFormat, sink), upstream);
  } catch (e) {
    await upstream.close();
    await sim.app.close();
    throw e;
  }
  ctx.msisdnList?.watch(100);
  ctx.templates?.watch(100);
  const mm1 = buildMm1App(ctx);
  const mm7 = buildMm7App(ctx);
  const admin = buildAdminApp(ctx);
  await mm1.listen({ host: '127.0.0.1', port: 0 });
  await mm7.listen({ host: '127.0.0.1', port: 0 });
  await admin.listen({ host: '127.0.0.1', port: 0 });
  return {
    proxy: url(mm1), mm7: url(mm7), admin: url(admin), sim, simUrl, logs, rawLogs,
    async close() {
      await mm1.close();
      await mm7.close();
      await admin.close();
      await upstream.close();
      await ctx.bulkStore?.close();
      ctx.msisdnList?.close();
      ctx.templates?.close();
      ctx.notifier?.close();
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
