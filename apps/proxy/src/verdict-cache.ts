/**
 * Blocked verdicts remembered for a while, keyed by retrieval URL and by
 * content hash. A handset whose comforted download was cut retries the same
 * URL several times (mmsd-tng: 3 times, 10 s apart); the retry is answered at
 * once with the proper error instead of re-fetching and re-trickling.
 * Bounded: oldest entries go first.
 */
export interface CachedVerdict {
  readonly subtype: string | null;
  readonly reason: string;
  /** The refused message's transaction, so a retry answered from the cache still echoes it. */
  readonly transactionId?: string | null;
  /** Its Message-ID, so the retry's records name the same message. */
  readonly messageId?: string | null;
}

export class VerdictCache {
  private readonly map = new Map<string, { v: CachedVerdict; until: number }>();

  constructor(
    private readonly ttlMs = 10 * 60_000,
    private readonly max = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  set(key: string, v: CachedVerdict): void {
    this.map.delete(key);
    this.map.set(key, { v, until: this.now() + this.ttlMs });
    while (this.map.size > this.max) {
      const oldest = this.map.keys().next().value;
      if (oldest === undefined) break;
      this.map.delete(oldest);
    }
  }

  get(key: string): CachedVerdict | null {
    const e = this.map.get(key);
    if (e === undefined) return null;
    if (e.until < this.now()) {
      this.map.delete(key);
      return null;
    }
    return e.v;
  }

  get size(): number {
    return this.map.size;
  }
}
