/**
 * The global in-flight byte budget: every buffered byte counts against it, and
 * a message that does not fit gets a transient error instead of growing the
 * heap towards an OOM. It counts memory actually held (the body reader takes
 * capacity as a buffer grows), never bytes merely promised by a Content-Length:
 * promises cost an attacker nothing and would let a few idle sockets starve it.
 */
export class ByteBudget {
  private used = 0;
  constructor(readonly limit: number) {}

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
