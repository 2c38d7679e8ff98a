/**
 * WORKERS > 1: this process serves nothing itself. It forks the workers (node:cluster; they share
 * the listening sockets, and the primary hands each new connection to the next worker in turn), holds
 * the shared memory state for them (STATE_STORE=memory, stores.ts), sums their metrics, and keeps
 * them running:
 * - the first worker starts alone, so a configuration only a full start can refuse (a signature
 *   file, a quarantine directory) is refused once, with its one line and exit code 2;
 * - a worker that dies is replaced, after a pause that grows while replacements keep dying young;
 * - SIGHUP is passed to every worker (each reloads, reload.ts);
 * - SIGUSR2 restarts the workers one at a time: the replacement listens before the old one drains,
 *   so no connection is refused and no message in flight is cut;
 * - SIGTERM/SIGINT drain every worker (SHUTDOWN_TIMEOUT), then exit 0.
 */
import cluster, { type Worker } from 'node:cluster';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { AggregatorRegistry } from 'prom-client';
import { buildSim } from '@mmsguard/mmsc-sim';
import type { Config } from '../config.js';
import { openQuarantine } from '../forensics.js';
import { primaryStoreTargets } from '../stores.js';
import { quarantineTarget } from './quarantine.js';
import { rpcServer, type RpcTarget } from './rpc.js';
import { READY, SIM_URL_ENV, SLOT_ENV } from './worker.js';

/** A worker that dies sooner than this after its start counts as dying young (the pause grows). */
const YOUNG_MS = 10_000;
/** Replacement pauses: from the first to the longest, doubling while workers die young. */
const FIRST_PAUSE_MS = 500;
const MAX_PAUSE_MS = 30_000;
/** How long a new worker may take to listen before the start (or a rolling restart) gives up on it. */
const START_TIMEOUT_MS = 60_000;

interface Slot {
  worker: Worker | null;
  startedAt: number;
  pauseMs: number;
  timer: NodeJS.Timeout | null;
}

export async function runPrimary(config: Config, log: Logger): Promise<void> {
  cluster.setupPrimary({ serialization: 'advanced' });
  const env: Record<string, string> = {};
  let sim: FastifyInstance | null = null;
  if (config.mm1.upstreamUrl === null) {
    // One simulator for every worker, as a single process would start it.
    sim = buildSim({ baseUrl: `http://127.0.0.1:${config.simPort}` }).app;
    await sim.listen({ host: '127.0.0.1', port: config.simPort });
    const a = sim.server.address();
    env[SIM_URL_ENV] = `http://127.0.0.1:${typeof a === 'object' && a !== null ? a.port : config.simPort}`;
  }
  const aggregator = new AggregatorRegistry();
  const targets: Record<string, RpcTarget> = {
    metrics: { object: { text: () => aggregator.clusterMetrics() }, methods: ['text'] },
  };
  // With Redis the workers share Redis; the primary's memory stores are for STATE_STORE=memory only.
  if (config.bulk.store === 'memory') Object.assign(targets, primaryStoreTargets());
  // One quarantine for every worker: one index and one byte bound over the directory.
  const { quarantineDir, quarantineMaxBytes } = config.forensics;
  const quarantine = quarantineDir === null ? null : await openQuarantine(quarantineDir, quarantineMaxBytes);
  if (quarantine !== null) targets['quarantine'] = quarantineTarget(quarantine);
  cluster.on('message', rpcServer(targets));

  const slots: Slot[] = Array.from({ length: config.workers }, () => ({
    worker: null, startedAt: 0, pauseMs: FIRST_PAUSE_MS, timer: null,
  }));
  let stopping = false;
  let restarting = false;
  const retiring = new Set<Worker>();

  /** Forks the worker of slot `i`; resolves when it listens, rejects with its exit code if it dies first. */
  const fork = (i: number): Promise<Worker> => {
    const slot = slots[i] as Slot;
    const w = cluster.fork({ ...env, [SLOT_ENV]: String(i) });
    slot.startedAt = Date.now();
    return new Promise<Worker>((resolve, reject) => {
      const timer = setTimeout(() => {
        w.process.kill('SIGKILL');
        reject(new Error(`worker ${i} did not listen within ${START_TIMEOUT_MS / 1000} s`));
      }, START_TIMEOUT_MS);
      const onMessage = (m: unknown): void => {
        if ((m as { type?: unknown })?.type !== READY) return;
        clearTimeout(timer);
        w.off('message', onMessage);
        w.off('exit', onEarlyExit);
        w.on('exit', (code, signal) => onExit(i, w, code, signal));
        resolve(w);
      };
      const onEarlyExit = (code: number | null, signal: string | null): void => {
        clearTimeout(timer);
        reject(Object.assign(new Error(`worker ${i} exited before listening (${signal ?? `code ${code}`})`), {
          exitCode: code ?? 1,
        }));
      };
      w.on('message', onMessage);
      w.once('exit', onEarlyExit);
    });
  };

  const replace = (i: number): void => {
    const slot = slots[i] as Slot;
    slot.timer = setTimeout(() => {
      slot.timer = null;
      if (stopping) return;
      fork(i).then((w) => {
        slot.worker = w;
        log.info({ event: 'worker-start', slot: i, pid: w.process.pid, msg: `worker ${i} replaced` });
      }, (e: Error) => {
        log.error({ event: 'worker-start-failed', slot: i, msg: e.message });
        slot.pauseMs = Math.min(MAX_PAUSE_MS, slot.pauseMs * 2);
        replace(i);
      });
    }, slot.pauseMs);
  };

  function onExit(i: number, w: Worker, code: number | null, signal: string | null): void {
    const slot = slots[i] as Slot;
    if (retiring.delete(w) || stopping) return;
    if (slot.worker === w) slot.worker = null;
    const young = Date.now() - slot.startedAt < YOUNG_MS;
    slot.pauseMs = young ? Math.min(MAX_PAUSE_MS, slot.pauseMs * 2) : FIRST_PAUSE_MS;
    log.error({
      event: 'worker-exit', slot: i, pid: w.process.pid, code, signal,
      msg: `worker ${i} (pid ${w.process.pid}) exited (${signal ?? `code ${code}`}); ` +
        `replacing it in ${slot.pauseMs} ms`,
    });
    replace(i);
  }

  // The first worker alone: a bad start is refused once (its own line on stderr), not WORKERS times.
  try {
    (slots[0] as Slot).worker = await fork(0);
    const rest = await Promise.all(slots.slice(1).map((_, k) => fork(k + 1)));
    rest.forEach((w, k) => ((slots[k + 1] as Slot).worker = w));
  } catch (e) {
    stopping = true;
    for (const s of slots) s.worker?.process.kill('SIGTERM');
    await sim?.close();
    await quarantine?.close();
    process.exit((e as { exitCode?: number }).exitCode ?? 1);
  }
  const pids = slots.map((s) => s.worker?.process.pid);
  process.stdout.write(`mmsguard: ${config.workers} workers listening (pids ${pids.join(', ')})\n`);

  process.on('SIGHUP', () => {
    for (const s of slots) s.worker?.process.kill('SIGHUP');
  });

  /** One worker at a time: the replacement listens, then the old one drains and exits. */
  const rollingRestart = async (): Promise<void> => {
    if (restarting || stopping) return;
    restarting = true;
    log.info({ event: 'rolling-restart', workers: slots.length, msg: 'restarting workers one at a time' });
    for (let i = 0; i < slots.length && !stopping; i++) {
      const slot = slots[i] as Slot;
      const old = slot.worker;
      try {
        slot.worker = await fork(i);
      } catch (e) {
        // The old worker keeps serving: a replacement that cannot start must not take capacity away.
        log.error({ event: 'rolling-restart-failed', slot: i, msg: (e as Error).message });
        slot.worker = old;
        break;
      }
      if (old !== null) {
        retiring.add(old);
        const gone = new Promise((r) => old.once('exit', r));
        old.process.kill('SIGTERM');
        await gone;
      }
    }
    restarting = false;
    log.info({ event: 'rolling-restart-done', msg: 'rolling restart finished' });
  };
  process.on('SIGUSR2', () => void rollingRestart());

  const stop = (sig: string): void => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`mmsguard: ${sig}: draining ${slots.length} workers\n`);
    for (const s of slots) if (s.timer !== null) clearTimeout(s.timer);
    // The workers keep SHUTDOWN_TIMEOUT themselves; this is the backstop if one hangs past it.
    setTimeout(() => process.exit(0), config.shutdownTimeoutMs + 2_000).unref();
    const live = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
    void Promise.all(live.map((w) => new Promise<void>((r) => {
      if (w.isDead()) r();
      else {
        w.once('exit', () => r());
        w.process.kill('SIGTERM');
      }
    }))).then(async () => {
      await sim?.close();
      // Last: the workers' final blocked parts are queued by now.
      await quarantine?.close();
      process.exit(0);
    });
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}
