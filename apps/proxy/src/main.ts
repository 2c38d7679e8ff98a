#!/usr/bin/env node
/**
 * `node apps/proxy/dist/main.js`: configured only by environment (CONTRACT
 * §2). Invalid configuration: one line on stderr, exit 2, nothing listens.
 * Without MM1_UPSTREAM_URL the bundled MMSC simulator is started on loopback
 * and used as the upstream. SIGTERM/SIGINT: stop accepting, finish in-flight
 * messages within SHUTDOWN_TIMEOUT, exit 0. SIGHUP: reload (reload.ts) — every
 * file re-read and validated, then swapped in for new messages; never exits.
 * Warnings (typo hints, values the environment overrides, risky settings) are
 * stderr lines `mmsguard: warning: …`. The wiring itself is proxy.ts. WORKERS > 1: this process
 * becomes the cluster's primary (cluster/primary.ts) and each worker runs this file again.
 */
import type { FastifyInstance } from 'fastify';
import { buildSim } from '@mmsguard/mmsc-sim';
import { firstGeneration } from './context.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import type { Generation } from './generation.js';
import { buildEngines } from './engines.js';
import { createLogger } from './log.js';
import { buildProxy, type Proxy } from './proxy.js';
import { startTracing } from './tracing.js';
import { runPrimary } from './cluster/primary.js';
import { workerRole } from './cluster/worker.js';

function fail(message: string): never {
  process.stderr.write(`mmsguard: ${message}\n`);
  process.exit(2);
}

function portOf(app: FastifyInstance): number {
  const a = app.server.address();
  return typeof a === 'object' && a !== null ? a.port : 0;
}

/** A SIGHUP before the proxy is up is remembered (the default action would end the process). */
let reload: (() => void) | null = null;
let hupEarly = false;
process.on('SIGHUP', () => {
  if (reload === null) hupEarly = true;
  else reload();
});

async function main(): Promise<void> {
  let config: Config;
  let files: string[];
  let warnings: string[];
  try {
    ({ config, files, warnings } = loadConfig(process.env));
  } catch (e) {
    fail(e instanceof ConfigError ? e.message : String(e));
  }
  const worker = workerRole(config.bulk.store);
  // Warnings once: by the primary, not again by each of its workers.
  if (worker === null) for (const w of warnings) process.stderr.write(`mmsguard: ${w}\n`);
  if (worker === null && config.workers > 1) {
    await runPrimary(config, createLogger(config.logLevel, config.logFormat));
    return;
  }
  // The fastify and undici instrumentations see only instances and requests made after this (otel.ts).
  const tracing = await startTracing(process.env);
  let first: Generation;
  try {
    // Bad list, template or signature files stop the start here, with file:line, before anything listens.
    first = firstGeneration(config, await buildEngines(config.scan), files);
  } catch (e) {
    const m = (e as Error).message;
    fail(m.startsWith('invalid configuration: ') ? m : `invalid configuration: ${m}`);
  }
  const { engines } = first;
  const log = createLogger(config.logLevel, config.logFormat);
  let sim: FastifyInstance | null = null;
  let upstreamUrl = config.mm1.upstreamUrl ?? worker?.simUrl ?? null;
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
    proxy = buildProxy(config, {
      first, engines, log, mm1UpstreamUrl: upstreamUrl, mm7UpstreamUrl: mm7Url, files,
      load: () => loadConfig(process.env), shownWarnings: warnings,
      warn: (w) => process.stderr.write(`mmsguard: ${w}\n`),
      ...(worker === null ? {} : { stores: worker.stores, retroHunt: worker.leader }),
    });
  } catch (e) {
    fail(`invalid configuration: ${(e as Error).message}`);
  }
  worker?.attachMetrics(proxy.ctx.metrics);
  await proxy.listen();
  worker?.ready({
    mm1: portOf(proxy.mm1), admin: portOf(proxy.admin), ...(proxy.mm7 !== null ? { mm7: portOf(proxy.mm7) } : {}),
  });
  const running = proxy;
  reload = () => void running.reload();
  if (hupEarly) reload();
  const shown = config.host === '0.0.0.0' ? '127.0.0.1' : config.host;
  const mm1 = `http://${shown}:${portOf(proxy.mm1)}`;
  if (worker === null || worker.leader) process.stdout.write(
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
    // SHUTDOWN_TIMEOUT as the generation in force has it (a reload may have changed it).
    const { shutdownTimeoutMs } = proxy.ctx.config;
    setTimeout(() => process.exit(0), shutdownTimeoutMs).unref();
    void (async () => {
      await proxy.close(Math.floor(shutdownTimeoutMs * 0.8));
      await sim?.close();
      await tracing?.shutdown().catch(() => undefined);
      process.exit(0);
    })();
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

void main().catch((e: unknown) => fail(e instanceof Error ? e.message : String(e)));
