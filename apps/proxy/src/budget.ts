/**
 * The global in-flight byte budget: every buffered byte counts against it, and
 * a message that does not fit gets a transient error instead of growing the
 * heap towards an OOM. It counts memory actually held (the body reader takes
 * capacity as a buffer grows), never bytes merely promised by a Content-Length:
 * promises cost an attacker nothing and would let a few idle sockets starve it.
 */
import { BufferPool } from './buffer-pool.js';

export class ByteBudget {
  private used = 0;
  /**
   * Where the body reader gets its buffers. Free buffers kept for reuse plus the bytes in flight stay under
   * `limit`: when the budget is nearly spent the pool lets buffers go instead of keeping them.
   */
  readonly pool: BufferPool | null;

  constructor(readonly limit: number, opts: { readonly pool?: boolean } = {}) {
    this.pool = opts.pool === false ? null : new BufferPool({ room: () => this.limit - this.used });
  }

  get inUse(): number {
    return this.used;
  }

  /** Reserves n bytes; false (and nothing reserved) when they do not fit. */
  tryTake(n: number): boolean {
    if (!(n >= 0) || this.used + n > this.limit) return false;
    this.used += n;
    return true;
  }

  give(n: number): void {
    this.used = Math.max(0, this.used - n);
  }
}
