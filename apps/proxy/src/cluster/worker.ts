/**
 * What a worker process (WORKERS > 1) does differently from a single process: its shared state is
 * the primary's (stores.ts, over cluster/rpc.ts), /metrics answers the sum over every worker, only
 * one worker runs the retro-hunt and prints the start banner, it tells the primary when it listens,
 * and it drains and exits when the primary is gone.
 */
import cluster from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import type { Metrics } from '../metrics.js';
import { workerStores, type StateStores } from '../stores.js';
import { RpcClient } from './rpc.js';

/** The message a worker sends once all its listeners are up (primary.ts waits for it). */
export const READY = 'mmsguard:ready';
/** The environment variables the primary gives each worker. */
export const SLOT_ENV = 'MMSGUARD_WORKER_SLOT';
export const SIM_URL_ENV = 'MMSGUARD_SIM_URL';

export interface WorkerRole {
  /** 0 … WORKERS-1; a replacement worker takes the slot of the one it replaces. */
  readonly slot: number;
  /** The bundled simulator the primary started (MM1_UPSTREAM_URL unset), or null. */
  readonly simUrl: string | null;
  readonly stores: StateStores;
  /** Slot 0 runs the retro-hunt and prints the banner; the others would repeat them. */
  readonly leader: boolean;
  /** Points /metrics at the primary's sum over every worker. */
  attachMetrics(metrics: Metrics): void;
  ready(ports: Readonly<Record<string, number>>): void;
}

/** This process's role when it is a cluster worker; null in a single process. */
export function workerRole(store: string): WorkerRole | null {
  if (!cluster.isWorker) return null;
  const rpc = new RpcClient();
  const slot = Number(process.env[SLOT_ENV] ?? 0);
  return {
    slot,
    simUrl: process.env[SIM_URL_ENV] ?? null,
    stores: workerStores(store, rpc),
    leader: slot === 0,
    attachMetrics(metrics) {
      // prom-client answers the primary's collection requests with the registries named here.
      void new AggregatorRegistry();
      AggregatorRegistry.setRegistries([metrics.registry]);
      metrics.exposition = async () => String(await rpc.call('metrics', 'text', []));
    },
    ready(ports) {
      process.send?.({ type: READY, ports });
    },
  };
}
