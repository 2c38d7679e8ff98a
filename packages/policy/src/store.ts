/**
 * Shared counting state for flood and duplicate protection. Every operation
 * is atomic on the store, so limits hold exactly across proxy instances that
 * share one store (Redis); the in-memory store is the embedded default for a
 * single instance.
 */
/** One key's check for CounterStore.checkAll; a threshold's blockMs is 0 when it does not block. */
export interface BulkCheckSpec {
  readonly blockKey: string;
  readonly countKeys: readonly string[];
  readonly thresholds: readonly { readonly limit: number; readonly windowMs: number; readonly blockMs: number }[];
}

export interface BulkCheckResult {
  readonly duringBlock: boolean;
  /** Index of the highest threshold crossed, or -1. */
  readonly crossed: number;
  readonly count: number;
}

export interface CounterStore {
  /**
   * Records one event for `key` at `now` and returns how many fall in (now - windowMs, now], keeping
   * only the newest `cap` events: a limit L needs L + 1 of them to be decided exactly, and a spam wave
   * must not grow a key without bound. Counts above `cap` are reported as `cap`.
   */
  hit(key: string, windowMs: number, now: number, cap?: number): Promise<number>;
  /** Blocks `key` until `until` (ms since epoch); replaces an earlier block. */
  block(key: string, until: number, blockMs: number): Promise<void>;
  /** The block end of `key` if it is blocked at `now`, with its block length; null otherwise. */
  blocked(key: string, now: number): Promise<{ until: number; blockMs: number } | null>;
  /** Current blocks (for the admin endpoint), and releasing one. */
  listBlocks(prefix: string, now: number): Promise<{ key: string; until: number }[]>;
  release(key: string): Promise<boolean>;
  /** Every counted key under `prefix` with its events in (now - windowMs, now]. */
  listCounts(prefix: string, windowMs: number, now: number): Promise<{ key: string; count: number }[]>;
  /**
   * Optional: several checks (flood, then duplicates) in one atomic step — per check the block
   * lookup and restart, a hit under every threshold, the new block — stopping after the first check
   * that blocks; for stores where each operation is a network round trip. Returns one result per
   * check evaluated.
   */
  checkAll?(checks: readonly BulkCheckSpec[], now: number): Promise<BulkCheckResult[]>;
  /** Forgets the events counted under `key`. */
  reset(key: string): Promise<void>;
  close(): Promise<void>;
}

export interface MemoryStoreOptions {
  /**
   * Counted keys held at most (default 1,000,000, about 360 MB of heap). A sender or a content is a key for its
   * window: unique contents at carrier rates under an hour-long DUPE window would grow the heap until the process
   * dies with every message in flight. Past the bound the least recently counted key is forgotten (its window
   * starts again), so a spam wave's key, counted on every message, stays. Redis is the store for more.
   */
  readonly maxKeys?: number;
}

/** Sliding-window counters in process memory. Bounded: keys expire with their window, and by `maxKeys`. */
export class MemoryStore implements CounterStore {
  // Each key keeps its own window: thresholds of different windows share the sweep. Times are kept
  // sorted with a moving head, so a hit costs O(expired) and not O(events in the window): one spam
  // wave of identical content is one key with tens of thousands of events.
  private readonly events = new Map<string, { windowMs: number; times: number[]; head: number }>();
  private readonly blocks = new Map<string, { until: number; blockMs: number }>();
  private sweeps = 0;
  private readonly maxKeys: number;
  private evictedKeys = 0;

  constructor(opts: MemoryStoreOptions = {}) {
    this.maxKeys = opts.maxKeys ?? 1_000_000;
    if (!Number.isSafeInteger(this.maxKeys) || this.maxKeys < 1) {
      throw new RangeError('maxKeys must be a positive integer');
    }
  }

  /** Counted keys held now, and how many were forgotten to stay under maxKeys (tests, metrics). */
  get keys(): { held: number; evicted: number } {
    return { held: this.events.size, evicted: this.evictedKeys };
  }

  hit(key: string, windowMs: number, now: number, cap = Infinity): Promise<number> {
    return Promise.resolve(this.hitNow(key, windowMs, now, cap));
  }

  private hitNow(key: string, windowMs: number, now: number, cap: number): number {
    let s = this.events.get(key);
    if (s === undefined) {
      if (this.events.size >= this.maxKeys) this.evictLeastRecent();
      s = { windowMs, times: [], head: 0 };
    } else {
      // The Map's order is least recently counted first: what eviction and the sweep take from.
      this.events.delete(key);
    }
    this.events.set(key, s);
    s.windowMs = windowMs;
    const { times } = s;
    while (s.head < times.length && (times[s.head] as number) <= now - windowMs) s.head++;
    // Concurrent messages may arrive with their clocks read in another order: insert in place.
    let i = times.length;
    while (i > s.head && (times[i - 1] as number) > now) i--;
    if (i === times.length) times.push(now);
    else times.splice(i, 0, now);
    if (times.length - s.head > cap) s.head = times.length - cap;
    if (s.head > 1024 && s.head * 2 > times.length) {
      s.times = times.slice(s.head);
      s.head = 0;
    }
    if (++this.sweeps % 1024 === 0) this.sweep(now);
    return s.times.length - s.head;
  }

  /**
   * The whole check in one synchronous step, as Redis's script does it: worker processes sharing a
   * primary's store (WORKERS) send it as one request, and nothing interleaves between the block
   * lookup, the hits and the new block.
   */
  checkAll(checks: readonly BulkCheckSpec[], now: number): Promise<BulkCheckResult[]> {
    const out: BulkCheckResult[] = [];
    for (const c of checks) {
      const existing = this.blocks.get(c.blockKey);
      if (existing !== undefined && existing.until > now) {
        // FortiOS: any attempt during a block restarts the block timer.
        this.blocks.set(c.blockKey, { until: now + existing.blockMs, blockMs: existing.blockMs });
        out.push({ duringBlock: true, crossed: -1, count: 0 });
        break;
      }
      let crossed = -1;
      let count = 0;
      c.thresholds.forEach((t, i) => {
        const n = this.hitNow(c.countKeys[i] as string, t.windowMs, now, t.limit + 1);
        if (n > t.limit) {
          crossed = i;
          count = n;
        }
      });
      out.push({ duringBlock: false, crossed, count });
      const blockMs = c.thresholds[crossed]?.blockMs ?? 0;
      if (blockMs > 0) {
        this.blocks.set(c.blockKey, { until: now + blockMs, blockMs });
        break;
      }
    }
    return Promise.resolve(out);
  }

  private evictLeastRecent(): void {
    const first = this.events.keys().next();
    if (first.done !== true) {
      this.events.delete(first.value);
      this.evictedKeys++;
    }
  }

  /**
   * Drops keys whose window has passed, least recently counted first, up to the first still counting: the cost
   * is what expired, not every key held (a full pass over a million keys every 1,024 hits stalled the loop).
   * A key of a short window behind one of a long window waits for a later sweep or for eviction.
   */
  private sweep(now: number): void {
    for (const [k, v] of this.events) {
      const newest = v.times[v.times.length - 1] as number;
      if (v.times.length === v.head || newest <= now - v.windowMs) this.events.delete(k);
      else break;
    }
    for (const [k, b] of this.blocks) if (b.until <= now) this.blocks.delete(k);
  }

  block(key: string, until: number, blockMs: number): Promise<void> {
    this.blocks.set(key, { until, blockMs });
    return Promise.resolve();
  }

  blocked(key: string, now: number): Promise<{ until: number; blockMs: number } | null> {
    const b = this.blocks.get(key);
    if (b === undefined || b.until <= now) return Promise.resolve(null);
    return Promise.resolve(b);
  }

  listBlocks(prefix: string, now: number): Promise<{ key: string; until: number }[]> {
    const live = [...this.blocks].filter(([k, b]) => k.startsWith(prefix) && b.until > now);
    return Promise.resolve(live.map(([key, b]) => ({ key, until: b.until })));
  }

  release(key: string): Promise<boolean> {
    return Promise.resolve(this.blocks.delete(key));
  }

  listCounts(prefix: string, windowMs: number, now: number): Promise<{ key: string; count: number }[]> {
    const out: { key: string; count: number }[] = [];
    for (const [key, v] of this.events) {
      if (!key.startsWith(prefix)) continue;
      out.push({ key, count: v.times.slice(v.head).filter((t) => t > now - windowMs && t <= now).length });
    }
    return Promise.resolve(out);
  }

  reset(key: string): Promise<void> {
    this.events.delete(key);
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
