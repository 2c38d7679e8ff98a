/**
 * Generations: everything a message is judged by that a SIGHUP reload (or a watched file's change)
 * may replace — the configuration, the scan engines, the MSISDN list, the reply templates — as one
 * immutable value. A message pins the generation in force when its request arrives and is handled
 * entirely under it (the route gets the pinned context, never the live one), so a reload cannot
 * change the rules under a message in flight. A superseded generation's engines are closed once no
 * message pins it any more and no later generation kept them (a clamd engine whose address did not
 * change lives on in the next generation).
 */
import type { ListRule, VaspLimits } from '@mmsguard/policy';
import type { HashSignature, ScanEngine } from '@mmsguard/scan';
import type { Config } from './config.js';
import type { Templates } from './templates.js';

/** A file-backed setting as loaded: where from, its value, the SHA-256 of the bytes parsed. */
export interface LoadedFile<T> {
  readonly path: string;
  readonly value: T;
  readonly sha256: string;
}

export interface Generation {
  /** 1 at start, +1 for every configuration swapped in. */
  readonly id: number;
  readonly config: Config;
  /** In SCAN_ENGINES order. */
  readonly engines: readonly ScanEngine[];
  /** The built-in engine's hash signatures (null: no built-in engine, or built elsewhere). */
  readonly hashSignatures: readonly HashSignature[] | null;
  /** MSISDN_LIST, or null when unset. */
  readonly msisdnList: LoadedFile<readonly ListRule[]> | null;
  /** REPLY_TEMPLATES, or null when unset (the defaults apply). */
  readonly replyTemplates: LoadedFile<Templates> | null;
  /** MM7_VASP_LIMITS, or null when unset. */
  readonly vaspLimits: LoadedFile<VaspLimits> | null;
  /** Configuration files read to build it (CONFIG_FILE, absolute). */
  readonly files: readonly string[];
}

interface Entry<C> {
  readonly gen: Generation;
  readonly ctx: C;
  pins: number;
  retired: boolean;
}

/**
 * The generation in force and those still pinned. `C` is what a pin hands out: the per-message view
 * of a generation (context.ts's ProxyContext), made once per generation by `view`.
 */
export class Generations<C> {
  private entry: Entry<C>;
  private readonly live = new Set<Entry<C>>();
  /** How many live generations hold each engine (reused engines are held by several). */
  private readonly holders = new Map<ScanEngine, number>();
  private readonly closing = new Set<Promise<void>>();

  constructor(first: Generation, private readonly view: (g: Generation) => C) {
    this.entry = this.admit(first);
  }

  get current(): Generation {
    return this.entry.gen;
  }

  /** The view of the generation in force, for what is not a message (/readyz, shutdown); not pinned. */
  get currentView(): C {
    return this.entry.ctx;
  }

  /** How many generations are still alive (the current one and those messages still pin). */
  get alive(): number {
    return this.live.size;
  }

  /** Pins the generation in force: its view, and `release` (idempotent) for when the message is done. */
  pin(): { readonly ctx: C; readonly gen: Generation; release(): void } {
    const e = this.entry;
    e.pins++;
    let released = false;
    return {
      ctx: e.ctx, gen: e.gen,
      release: () => {
        if (released) return;
        released = true;
        e.pins--;
        this.settle(e);
      },
    };
  }

  /** Runs `f` with the generation in force pinned until the promise it returns settles. */
  async run<T>(f: (ctx: C) => Promise<T>): Promise<T> {
    const p = this.pin();
    try {
      return await f(p.ctx);
    } finally {
      p.release();
    }
  }

  /**
   * Makes `next` the generation in force for every message that arrives from now on. The one it
   * replaces is retired: its engines that `next` does not keep are closed when its last message ends.
   */
  swap(next: Generation): Generation {
    const old = this.entry;
    if (next.id <= old.gen.id) throw new RangeError(`generation ${next.id} does not follow ${old.gen.id}`);
    this.entry = this.admit(next);
    old.retired = true;
    this.settle(old);
    return old.gen;
  }

  /** Closes every engine still held (shutdown, after the messages drained). */
  async close(): Promise<void> {
    const engines = [...this.holders.keys()];
    this.holders.clear();
    this.live.clear();
    await Promise.all([...this.closing, ...engines.map((e) => e.close().catch(() => undefined))]);
  }

  /** Resolves when the engines of retired generations that were closed so far have finished closing. */
  async closed(): Promise<void> {
    await Promise.all(this.closing);
  }

  private admit(gen: Generation): Entry<C> {
    const e: Entry<C> = { gen, ctx: this.view(gen), pins: 0, retired: false };
    this.live.add(e);
    for (const engine of new Set(gen.engines)) this.holders.set(engine, (this.holders.get(engine) ?? 0) + 1);
    return e;
  }

  private settle(e: Entry<C>): void {
    if (!e.retired || e.pins > 0 || !this.live.has(e)) return;
    this.live.delete(e);
    for (const engine of new Set(e.gen.engines)) {
      // Not held any more: closed already (shutdown closes every engine at once).
      if (!this.holders.has(engine)) continue;
      const n = (this.holders.get(engine) ?? 0) - 1;
      if (n > 0) {
        this.holders.set(engine, n);
        continue;
      }
      this.holders.delete(engine);
      const p: Promise<void> = engine.close().catch(() => undefined).then(() => {
        this.closing.delete(p);
      });
      this.closing.add(p);
    }
  }
}
