/**
 * Multi-pattern matcher for body signatures. Each signature contributes one
 * 3-byte gram of its anchor (its longest literal run) to a 2^24-bit table; the
 * scan loop rolls a 24-bit key over the data and tests one bit per byte, so
 * its cost stays flat as signatures grow. Only bit hits (rare: one in
 * 2^24/signatures positions on random data) reach the table lookup and the
 * full pattern check. Signatures with no 3-byte literal are checked the slow
 * way and counted (`slowCount`) so operators can see them.
 */
import type { BodySignature, SigOffset } from './signatures.js';
import { findSegment, matchRest, type Segment } from './hex-pattern.js';

interface Entry {
  readonly sig: BodySignature;
  /** Offset of the indexed gram inside the anchor. */
  readonly gramAt: number;
}

const COMMON = new Set([0x00, 0xff, 0x20, 0x0a, 0x0d, 0x30]);

function bestGram(anchor: Uint8Array): number {
  let best = 0;
  let bestScore = -1;
  for (let i = 0; i + 3 <= anchor.length; i++) {
    const a = anchor[i] as number;
    const b = anchor[i + 1] as number;
    const c = anchor[i + 2] as number;
    const score = (COMMON.has(a) ? 0 : 2) + (COMMON.has(b) ? 0 : 2) + (COMMON.has(c) ? 0 : 2) + (a !== b ? 1 : 0) + (b !== c ? 1 : 0);
    if (score > bestScore) {
      bestScore = score;
      best = i;
    }
  }
  return best;
}

function startRange(offset: SigOffset, len: number): [number, number] {
  switch (offset.kind) {
    case 'any':
      return [0, len];
    case 'abs':
      return [offset.from, offset.to];
    case 'eof':
      return [len - offset.from, len - offset.to];
  }
}

/** Full check of a signature whose first segment may start anywhere in [lo, hi]. */
function verify(data: Uint8Array, sig: BodySignature, lo: number, hi: number): boolean {
  const [oLo, oHi] = startRange(sig.offset, data.length);
  const from = Math.max(lo, oLo, 0);
  const to = Math.min(hi, oHi, data.length);
  if (from > to) return false;
  const first = findSegment(data, sig.pattern.segments[0] as Segment, from, to);
  return first !== null && matchRest(data, sig.pattern, first[1]);
}

export type TargetFilter = (targetType: number) => boolean;

export class BodyMatcher {
  private readonly bits = new Uint8Array(1 << 21);
  private readonly table = new Map<number, Entry[]>();
  private readonly slow: BodySignature[] = [];
  readonly size: number;

  constructor(sigs: readonly BodySignature[]) {
    this.size = sigs.length;
    for (const sig of sigs) {
      const a = sig.pattern.anchor;
      if (a === null || a.length < 3) {
        this.slow.push(sig);
        continue;
      }
      const g = bestGram(a);
      const key = ((a[g] as number) << 16) | ((a[g + 1] as number) << 8) | (a[g + 2] as number);
      (this.bits[key >>> 3] as number) |= 1 << (key & 7);
      const list = this.table.get(key);
      if (list === undefined) this.table.set(key, [{ sig, gramAt: g }]);
      else list.push({ sig, gramAt: g });
    }
  }

  get slowCount(): number {
    return this.slow.length;
  }

  /** Name of the first signature found in `data`, or null. */
  match(data: Uint8Array, accepts: TargetFilter): string | null {
    const bits = this.bits;
    const n = data.length;
    let key = 0;
    for (let i = 0; i < n; i++) {
      key = ((key << 8) | (data[i] as number)) & 0xffffff;
      if (((bits[key >>> 3] as number) & (1 << (key & 7))) === 0 || i < 2) continue;
      const hit = this.candidates(data, key, i - 2, accepts);
      if (hit !== null) return hit;
    }
    for (const sig of this.slow) {
      if (accepts(sig.target) && verify(data, sig, 0, n)) return sig.name;
    }
    return null;
  }

  private candidates(data: Uint8Array, key: number, gramPos: number, accepts: TargetFilter): string | null {
    const list = this.table.get(key);
    if (list === undefined) return null;
    for (const { sig, gramAt } of list) {
      const anchor = sig.pattern.anchor as Uint8Array;
      const h = gramPos - gramAt;
      if (h < 0 || h + anchor.length > data.length) continue;
      let ok = true;
      for (let j = 0; j < anchor.length; j++) {
        if (data[h + j] !== anchor[j]) {
          ok = false;
          break;
        }
      }
      if (!ok || !accepts(sig.target)) continue;
      if (verify(data, sig, h - sig.pattern.anchorMaxOffset, h - sig.pattern.anchorMinOffset)) return sig.name;
    }
    return null;
  }
}
