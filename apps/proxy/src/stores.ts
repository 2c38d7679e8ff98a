/**
 * Where the shared state lives (STATE_STORE): the flood/duplicate counters, the VASP buckets and the
 * verdict lookup. `memory` keeps them in this process; a Redis URL shares them between instances.
 * With WORKERS > 1 and `memory`, the primary process holds them and the workers reach them through
 * cluster/rpc.ts (workerStores), so the limits stay exact across workers.
 */
import {
  MemoryQuotaStore, MemoryStore, MemoryVerdictStore, QuotaStoreError, QuotaStoreErrorCode, VerdictStoreError,
  VerdictStoreErrorCode, type CounterStore, type QuotaStore, type VerdictStore,
} from '@mmsguard/policy';
import { RedisQuotaStore, RedisStore, RedisVerdictStore } from '@mmsguard/state-redis';
import { RemoteQuarantine } from './cluster/quarantine.js';
import type { RpcClient, RpcTarget } from './cluster/rpc.js';
import type { QuarantineAccess } from './forensics.js';

export interface StateStores {
  counter(): CounterStore;
  quota(): QuotaStore;
  verdicts(): VerdictStore;
  /** The primary's quarantine (a worker of WORKERS); absent: QUARANTINE_DIR is opened by this process. */
  quarantine?(): QuarantineAccess;
}

/** The stores of one process: in its memory, or clients of the Redis at `store`. */
export function localStores(store: string): StateStores {
  const memory = store === 'memory';
  return {
    counter: () => (memory ? new MemoryStore() : new RedisStore(store)),
    quota: () => (memory ? new MemoryQuotaStore() : new RedisQuotaStore(store)),
    verdicts: () => (memory ? new MemoryVerdictStore() : new RedisVerdictStore(store)),
  };
}

/** The methods a worker may call on each of the primary's stores (everything but close). */
const METHODS = {
  counter: ['hit', 'block', 'blocked', 'listBlocks', 'release', 'listCounts', 'checkAll', 'reset'],
  quota: ['take', 'usage'],
  verdicts: ['put', 'get', 'findDelivered'],
} as const satisfies Record<'counter' | 'quota' | 'verdicts', readonly string[]>;

/** The primary's side: one memory store of each kind, served to every worker. */
export function primaryStoreTargets(): Record<'counter' | 'quota' | 'verdicts', RpcTarget> {
  const memory = localStores('memory');
  return {
    counter: { object: memory.counter(), methods: METHODS.counter },
    quota: { object: memory.quota(), methods: METHODS.quota },
    verdicts: { object: memory.verdicts(), methods: METHODS.verdicts },
  };
}

/** A worker's stores: the primary's for `memory` (exact across workers), Redis clients otherwise. */
export function workerStores(store: string, rpc: RpcClient): StateStores {
  // QUARANTINE_DIR is one directory whatever STATE_STORE says: always the primary's.
  if (store !== 'memory') return { ...localStores(store), quarantine: () => new RemoteQuarantine(rpc) };
  // The callers' failure paths know their own error types: an unanswered call is an outage, as for Redis.
  const quotaError = (e: { code: string; message: string }): Error => new QuotaStoreError(
    e.code === QuotaStoreErrorCode.INVALID ? QuotaStoreErrorCode.INVALID : QuotaStoreErrorCode.UNAVAILABLE, e.message);
  const verdictCodes = new Set<string>(Object.values(VerdictStoreErrorCode));
  const verdictError = (e: { code: string; message: string }): Error => new VerdictStoreError(
    verdictCodes.has(e.code) ? (e.code as VerdictStoreErrorCode) : VerdictStoreErrorCode.UNAVAILABLE, e.message);
  return {
    counter: () => rpc.remote<CounterStore>('counter', METHODS.counter),
    quota: () => rpc.remote<QuotaStore>('quota', METHODS.quota, quotaError),
    // A verdict record is written after the reply and read only by an operator's lookup: it may wait a moment.
    verdicts: () => rpc.remote<VerdictStore>('verdicts', METHODS.verdicts, verdictError, ['put']),
    quarantine: () => new RemoteQuarantine(rpc),
  };
}
