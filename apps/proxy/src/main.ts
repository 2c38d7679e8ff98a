#!/usr/bin/env node
/**
 * `node apps/proxy/dist/main.js`: configured only by environment (CONTRACT
 * §2). Invalid configuration: one line on stderr, exit 2, nothing listens.
 * Without MM1_UPSTREAM_URL the bundled MMSC simulator is started on loopback
 * and used as the upstream. SIGTERM/SIGINT: stop accepting, finish in-flight
 * messages within SHUTDOWN_TIMEOUT, exit 0.
 */
import type { FastifyInstance } from 'fastify';
import { buildSim } from '@mmsguard/mmsc-sim';
import { buildAdminApp, buildMm1App, buildMm7App } from './app.js';
import { createContext, msisdnListFile, templateFile } from './context.js';
import { ConfigError, parseConfig, type Config } from './config.js';
import { buildEngines } from './engines.js';
import { createLogger } from './log.js';
import { Upstream } from './upstream.js';

function fail(message: string): never {
  process.stderr.write(`mmsguard: ${message}\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = parseConfig(process.env);
  } catch (e) {
    fail(e instanceof ConfigError ? e.message : String(e));
  }
  let engines;
  try {
    // Bad list or template files stop the start here, with file:line, before anything listens.
    if (config.bulk.msisdnList !== null) msisdnListFile(config.bulk.msisdnList, null).close();
    if (config.replyTemplates !== null) templateFile(config.replyTemplates, null).close();
    engines = await buildEngines(config.scan);
  } catch (e) {
    fail(`invalid configuration: ${(e as Error).message}`);
  }
  const log = createLogger(config.logLevel, config.logFormat);
  const closers: (() => Promise<unknown>)[] = [];
  let upstreamUrl = config.mm1.upstreamUrl;
  if (upstreamUrl === null) {
    const sim = buildSim({ baseUrl: `http://127.0.0.1:${config.simPort}` });
    await sim.app.listen({ host: '127.0.0.1', port: config.simPort });
    const addr = sim.app.server.address();
    upstreamUrl = `http://127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : config.simPort}`;
    closers.push(() => sim.app.close());
    process.stdout.write(`mmsguard: MM1_UPSTREAM_URL not set, using the bundled MMSC simulator at ${upstreamUrl}\n`);
  }
  const upstream = new Upstream(upstreamUrl, config.upstreamTimeoutMs, config.upstreamConnections);
  // MM7 without MM7_UPSTREAM_URL goes to the same simulator, which answers MM7 too.
  const mm7Url = config.mm7.upstreamUrl ?? (config.mm1.upstreamUrl === null ? upstreamUrl : null);
  const mm7Upstream = mm7Url !== null ? new Upstream(mm7Url, config.upstreamTimeoutMs, config.upstreamConnections) : null;
  let ctx;
  try {
    ctx = createContext(config, engines, log, upstream, mm7Upstream ?? upstream);
  } catch (e) {
    fail(`invalid configuration: ${(e as Error).message}`);
  }
  ctx.msisdnList?.watch();
  ctx.templates?.watch();
  const mm1: FastifyInstance = buildMm1App(ctx);
  const admin: FastifyInstance = buildAdminApp(ctx);
  const mm7: FastifyInstance | null = mm7Upstream !== null ? buildMm7App(ctx) : null;
  await mm1.listen({ host: config.host, port: config.mm1.port });
  if (mm7 !== null) await mm7.listen({ host: config.host, port: config.mm7.port });
  await admin.listen({ host: config.adminHost, port: config.adminPort });
  const port = (app: FastifyInstance): number => {
    const a = app.server.address();
    return typeof a === 'object' && a !== null ? a.port : 0;
  };
  const shown = config.host === '0.0.0.0' ? '127.0.0.1' : config.host;
  process.stdout.write(
    `mmsguard: MM1 proxy listening on http://${shown}:${port(mm1)} -> ${upstreamUrl}\n` +
      `mmsguard: send MMS PDUs: curl --data-binary @msg.mms -H 'Content-Type: application/vnd.wap.mms-message' http://${shown}:${port(mm1)}/mms\n` +
      (mm7 !== null ? `mmsguard: MM7 proxy listening on http://${shown}:${port(mm7)} -> ${mm7Url ?? ''}\n` : 'mmsguard: MM7 listener off (set MM7_UPSTREAM_URL)\n') +
      `mmsguard: admin on http://${config.adminHost}:${port(admin)} (/healthz /readyz /metrics); engines: ${engines.map((e) => e.name).join(', ')}\n`,
  );
  let stopping = false;
  const stop = (sig: string): void => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`mmsguard: ${sig}: draining\n`);
    const force = setTimeout(() => {
      process.stderr.write('mmsguard: shutdown timeout, closing remaining connections\n');
      mm1.server.closeAllConnections();
      mm7?.server.closeAllConnections();
    }, config.shutdownTimeoutMs);
    force.unref();
    void (async () => {
      await mm1.close();
      if (mm7 !== null) await mm7.close();
      await admin.close();
      await ctx.senderNotices?.drain();
      await upstream.close();
      if (mm7Upstream !== null) await mm7Upstream.close();
      for (const c of closers) await c();
      await Promise.all(engines.map((e) => e.close()));
      await ctx.bulkStore?.close();
      ctx.msisdnList?.close();
      ctx.templates?.close();
      ctx.notifier?.close();
      clearTimeout(force);
      process.exit(0);
    })();
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

void main().catch((e: unknown) => fail(e instanceof Error ? e.message : String(e)));
