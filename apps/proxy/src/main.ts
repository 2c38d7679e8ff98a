#!/usr/bin/env node
/**
 * `node apps/proxy/dist/main.js`: configured only by environment (CONTRACT
 * §2). Invalid configuration: one line on stderr, exit 2, nothing listens.
 * Without MM1_UPSTREAM_URL the bundled MMSC simulator is started on loopback
 * and used as the upstream. SIGTERM/SIGINT: stop accepting, finish in-flight
 * messages within SHUTDOWN_TIMEOUT, exit 0. The wiring itself is proxy.ts.
 */
import type { FastifyInstance } from 'fastify';
import { buildSim } from '@mmsguard/mmsc-sim';
import { msisdnListFile, templateFile } from './context.js';
import { ConfigError, parseConfig, type Config } from './config.js';
import { buildEngines } from './engines.js';
import { createLogger } from './log.js';
import { buildProxy, type Proxy } from './proxy.js';
import { startTracing } from './tracing.js';

function fail(message: string): never {
  process.stderr.write(`mmsguard: ${message}\n`);
  process.exit(2);
}

function portOf(app: FastifyInstance): number {
  const a = app.server.address();
  return typeof a === 'object' && a !== null ? a.port : 0;
}

async function main(): Promise<void> {
  // First: the fastify and undici instrumentations see only instances and requests made after this (otel.ts).
  const tracing = await startTracing(process.env);
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
  let sim: FastifyInstance | null = null;
  let upstreamUrl = config.mm1.upstreamUrl;
  if (upstreamUrl === null) {
    sim = buildSim({ baseUrl: `http://127.0.0.1:${config.simPort}` }).app;
    await sim.listen({ host: '127.0.0.1', port: config.simPort });
    upstreamUrl = `http://127.0.0.1:${portOf(sim)}`;
    process.stdout.write(`mmsguard: MM1_UPSTREAM_URL not set, using the bundled MMSC simulator at ${upstreamUrl}\n`);
  }
  // MM7 without MM7_UPSTREAM_URL goes to the same simulator, which answers MM7 too.
  const mm7Url = config.mm7.upstreamUrl ?? (config.mm1.upstreamUrl === null ? upstreamUrl : null);
  let proxy: Proxy;
  try {
    proxy = buildProxy(config, { engines, log, mm1UpstreamUrl: upstreamUrl, mm7UpstreamUrl: mm7Url });
  } catch (e) {
    fail(`invalid configuration: ${(e as Error).message}`);
  }
  await proxy.listen();
  const shown = config.host === '0.0.0.0' ? '127.0.0.1' : config.host;
  const mm1 = `http://${shown}:${portOf(proxy.mm1)}`;
  process.stdout.write(
    `mmsguard: MM1 proxy listening on ${mm1} -> ${upstreamUrl}\n` +
      'mmsguard: send MMS PDUs: curl --data-binary @msg.mms ' +
      `-H 'Content-Type: application/vnd.wap.mms-message' ${mm1}/mms\n` +
      (proxy.mm7 !== null
        ? `mmsguard: MM7 proxy listening on http://${shown}:${portOf(proxy.mm7)} -> ${mm7Url ?? ''}\n`
        : 'mmsguard: MM7 listener off (set MM7_UPSTREAM_URL)\n') +
      `mmsguard: admin on http://${config.adminHost}:${portOf(proxy.admin)} (/healthz /readyz /metrics); ` +
      `engines: ${engines.map((e) => e.name).join(', ')}\n`,
  );
  let stopping = false;
  const stop = (sig: string): void => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`mmsguard: ${sig}: draining\n`);
    // SHUTDOWN_TIMEOUT is a promise to the operator: whatever still hangs then (a slow MMSC, clamd, the
    // bundled simulator's own clients) does not keep the process alive. In-flight messages get most of
    // it; what is left closes their connections and the rest.
    setTimeout(() => process.exit(0), config.shutdownTimeoutMs).unref();
    void (async () => {
      await proxy.close(Math.floor(config.shutdownTimeoutMs * 0.8));
      await sim?.close();
      await tracing?.shutdown().catch(() => undefined);
      process.exit(0);
    })();
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

void main().catch((e: unknown) => fail(e instanceof Error ? e.message : String(e)));
