/**
 * Counts the bytes that opening archives produces, so that compressed input
 * cannot turn into unbounded memory. Two bounds, each naming its attack:
 *
 * - an `ExpansionPool` (one per process by default): bytes of expanded
 *   content held in memory right now, across every concurrent inspection.
 *   Stops a flood of small bombs: 8 concurrent 70 KiB zips, each within the
 *   per-part limits, grew RSS by ~530 MiB before this (issue 14 class 11).
 * - an `ExpansionBudget` (one per message): bytes expanded for the message in
 *   total, across all of its parts and their decoded forms. Stops one message
 *   of many parts from multiplying the per-part limit (and its CPU time).
 *
 * A refusal is a reason string that the archive reader turns into an
 * `unscannable` finding; it is never an exception and never "clean".
 * This module knows nothing of archive formats.
 */

/** Default process-wide bound: two messages' worth of the per-part limit (64 MiB) held at once. */
export const DEFAULT_EXPANSION_POOL_BYTES = 128 * 1024 * 1024;
/** Default per-message bound: the per-part limit; a message whose parts expand to more is refused. */
export const DEFAULT_MESSAGE_EXPANSION_BYTES = 64 * 1024 * 1024;

function checkBytes(what: string, n: number): number {
  if (!Number.isSafeInteger(n) || n <= 0) throw new RangeError(`${what} must be a positive integer, got ${n}`);
  return n;
}

export class ExpansionPool {
  private used = 0;
  private highest = 0;
  readonly maxBytes: number;

  constructor(maxBytes: number = DEFAULT_EXPANSION_POOL_BYTES) {
    this.maxBytes = checkBytes('ExpansionPool maxBytes', maxBytes);
  }

  /** Bytes of expanded content held right now. */
  get inUse(): number {
    return this.used;
  }

  /** The most ever held at once (for metrics and the bench). */
  get peak(): number {
    return this.highest;
  }

  /** Reserves n bytes; false (and nothing reserved) when they do not fit. */
  tryTake(n: number): boolean {
    if (n < 0 || this.used + n > this.maxBytes) return false;
    this.used += n;
    if (this.used > this.highest) this.highest = this.used;
    return true;
  }

  give(n: number): void {
    this.used = Math.max(0, this.used - n);
  }
}

/** The process-wide pool `inspectTarget` draws from unless told otherwise. */
export const DEFAULT_EXPANSION_POOL = new ExpansionPool();

export interface ExpansionBudgetOptions {
  /** Bytes this message may expand in total (default DEFAULT_MESSAGE_EXPANSION_BYTES). */
  readonly maxBytes?: number;
  /** Where the held bytes are counted; null for none (default DEFAULT_EXPANSION_POOL). */
  readonly pool?: ExpansionPool | null;
}

/** One holder of expanded bytes (an inspection); `release` gives them back to the pool when it is done with them. */
export interface ExpansionLease {
  /** null when n more bytes may be expanded; otherwise why not (for the `unscannable` finding). */
  take(n: number): string | null;
  /** Bytes this lease holds in the pool. */
  readonly held: number;
  /** Gives every held byte back to the pool; idempotent. The expanded content must no longer be referenced. */
  release(): void;
}

export class ExpansionBudget {
  readonly maxBytes: number;
  readonly pool: ExpansionPool | null;
  private total = 0;

  constructor(opts: ExpansionBudgetOptions = {}) {
    this.maxBytes = checkBytes('ExpansionBudget maxBytes', opts.maxBytes ?? DEFAULT_MESSAGE_EXPANSION_BYTES);
    this.pool = opts.pool === undefined ? DEFAULT_EXPANSION_POOL : opts.pool;
  }

  /** Bytes expanded for this message so far (never given back). */
  get expanded(): number {
    return this.total;
  }

  /** A holder for one inspection: its bytes count against this budget for good and against the pool until release. */
  lease(): ExpansionLease {
    return new Lease(this, (n) => {
      this.total += n;
    });
  }
}

/**
 * A class, not an object literal: a lease is made for every part inspected, and a literal with a getter cost about
 * 2 µs each (V8 builds such an object the slow way), more than the rest of a plain part's container checks.
 */
class Lease implements ExpansionLease {
  private bytes = 0;
  private released = false;

  constructor(private readonly budget: ExpansionBudget, private readonly count: (n: number) => void) {}

  get held(): number {
    return this.bytes;
  }

  take(n: number): string | null {
    const { maxBytes, pool } = this.budget;
    if (this.budget.expanded + n > maxBytes) {
      return `the message's archive content passed its ${maxBytes}-byte expansion budget`;
    }
    if (this.released) return 'expansion lease already released';
    if (pool !== null && !pool.tryTake(n)) {
      return `${pool.inUse} bytes of archive content already held across concurrent scans ` +
        `(limit ${pool.maxBytes}): expansion refused`;
    }
    this.count(n);
    this.bytes += n;
    return null;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.budget.pool?.give(this.bytes);
    this.bytes = 0;
  }
}
