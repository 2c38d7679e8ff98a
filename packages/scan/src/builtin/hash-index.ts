/**
 * The built-in engine's hash signatures (.hdb/.hsb), indexed by size and algorithm: a target is hashed only in
 * the algorithms some signature of its size (or of any size) uses, and only then. Built in slices by `build`,
 * yielding the event loop between them: ClamAV's hash files run to a million lines, about two seconds of
 * indexing, which a reload must not take from the messages in flight.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { digestOf } from '../digest.js';
import type { HashSignature } from './signatures.js';

type Algo = HashSignature['algo'];

/** Signatures indexed between two turns of the event loop (~40 ms on the bench machine). */
const SLICE = 20_000;

export class HashIndex {
  private readonly bySize = new Map<number, Map<string, string>>();
  private readonly anySize = new Map<string, string>();
  private readonly algosBySize = new Map<number, Set<Algo>>();
  private readonly anyAlgos = new Set<Algo>();

  /** Indexes `hashes` here and now (tests, small sets). */
  static buildSync(hashes: readonly HashSignature[]): HashIndex {
    const index = new HashIndex();
    for (const h of hashes) index.add(h);
    return index;
  }

  /** Indexes `hashes` a slice per turn of the event loop. */
  static async build(hashes: readonly HashSignature[]): Promise<HashIndex> {
    const index = new HashIndex();
    for (let i = 0; i < hashes.length; i++) {
      if (i > 0 && i % SLICE === 0) await nextTurn();
      index.add(hashes[i] as HashSignature);
    }
    return index;
  }

  private add(h: HashSignature): void {
    const key = `${h.algo}:${h.hash}`;
    if (h.size === null) {
      this.anySize.set(key, h.name);
      this.anyAlgos.add(h.algo);
      return;
    }
    let m = this.bySize.get(h.size);
    if (m === undefined) this.bySize.set(h.size, (m = new Map<string, string>()));
    m.set(key, h.name);
    let a = this.algosBySize.get(h.size);
    if (a === undefined) this.algosBySize.set(h.size, (a = new Set<Algo>()));
    a.add(h.algo);
  }

  /** Distinct signatures held (a hash listed twice counts once). */
  get count(): number {
    let n = this.anySize.size;
    for (const m of this.bySize.values()) n += m.size;
    return n;
  }

  /** The name of the signature `data` matches, or null. */
  lookup(data: Uint8Array): string | null {
    const sizedAlgos = this.algosBySize.get(data.length);
    // The common answer, without a Set per target: no signature of this size, none of any size.
    if (sizedAlgos === undefined && this.anyAlgos.size === 0) return null;
    const sized = this.bySize.get(data.length);
    const algos = new Set<Algo>(this.anyAlgos);
    for (const a of sizedAlgos ?? []) algos.add(a);
    for (const algo of algos) {
      const key = `${algo}:${digestOf(data, algo)}`;
      const name = sized?.get(key) ?? this.anySize.get(key);
      if (name !== undefined) return name;
    }
    return null;
  }
}
