/**
 * The quarantine's bounds: every one has a default, is validated at open, and names what it stops.
 * Validation throws `MMS_ERR_QUARANTINE_CONFIG` (a startup error), never anything at request time.
 */
import { QuarantineError, QuarantineErrorCode } from './errors.js';

export interface QuarantineLimits {
  /**
   * Bytes on disk (parts + sidecars); past it the entries seen longest ago are evicted. Stops a
   * malware wave of distinct files (every one blocked) from filling the disk the proxy logs to.
   * CONTRACT §7 `QUARANTINE_MAX_BYTES`, default 1 GiB.
   */
  readonly maxBytes: number;
  /**
   * Entries (files) at most. Stops a flood of tiny distinct blocked parts (a filtered `.exe` with one
   * random byte changed each time) from exhausting inodes and the in-memory index long before
   * `maxBytes` is reached: the index costs about 100 bytes of heap per entry.
   */
  readonly maxEntries: number;
  /**
   * Bytes waiting in the write queue. A stalled disk (NFS gone, I/O error retries) cannot grow the
   * heap past this: further parts are dropped and counted, the traffic is unaffected.
   */
  readonly maxQueueBytes: number;
  /** Writes waiting in the queue, for the same reason when the parts are tiny. */
  readonly maxQueueEntries: number;
  /**
   * Transaction ids kept per entry (the first one, patient zero, and the newest). One attachment
   * sent a million times must not grow its sidecar to megabytes; `count` keeps the total.
   */
  readonly maxTransactionIds: number;
  /** Distinct findings kept per entry (engines × signature names); same reason. */
  readonly maxFindings: number;
  /** Distinct services kept per entry (MM1, MM7 …). */
  readonly maxServices: number;
  /**
   * Characters kept of a transaction id, service or finding string: they come from the wire (an MM1
   * Transaction-ID is the handset's choice), and a hostile one must not bloat every sidecar.
   */
  readonly maxStringLength: number;
}

export const DEFAULT_QUARANTINE_LIMITS: QuarantineLimits = Object.freeze({
  maxBytes: 1024 * 1024 * 1024,
  maxEntries: 100_000,
  maxQueueBytes: 64 * 1024 * 1024,
  maxQueueEntries: 1024,
  maxTransactionIds: 64,
  maxFindings: 32,
  maxServices: 8,
  maxStringLength: 256,
});

const MINIMUM: Readonly<Record<keyof QuarantineLimits, number>> = {
  maxBytes: 1,
  maxEntries: 1,
  maxQueueBytes: 1,
  maxQueueEntries: 1,
  // Two: the first transaction id and the newest one.
  maxTransactionIds: 2,
  maxFindings: 1,
  maxServices: 1,
  maxStringLength: 16,
};

export function resolveLimits(given: Partial<QuarantineLimits>): QuarantineLimits {
  const out: Record<string, number> = { ...DEFAULT_QUARANTINE_LIMITS };
  for (const [k, v] of Object.entries(given)) {
    if (v === undefined) continue;
    const min = MINIMUM[k as keyof QuarantineLimits] as number | undefined;
    if (min === undefined) throw new QuarantineError(QuarantineErrorCode.CONFIG, `unknown quarantine limit '${k}'`);
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
      throw new QuarantineError(QuarantineErrorCode.CONFIG, `quarantine limit ${k} must be an integer ≥ ${min}`);
    }
    out[k] = v;
  }
  return Object.freeze(out) as unknown as QuarantineLimits;
}
