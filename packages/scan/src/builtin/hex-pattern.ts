/**
 * ClamAV body-signature hex patterns (.ndb field 4): compile and match.
 *
 * Supported: hex bytes, `??` any byte, nibble wildcards `a?`/`?a`, `*` any
 * number of bytes, `{n}` `{n-m}` `{-m}` `{n-}` bounded gaps, `(aa|bbcc|..)`
 * alternatives of literal hex strings. A pattern is split at unbounded gaps
 * into segments that must appear in order (as ClamAV does); each segment has a
 * bounded length, so matching it at a position is bounded work.
 */

export type Token =
  | { readonly t: 'byte'; readonly value: number; readonly mask: number } // (b & mask) === value
  | { readonly t: 'gap'; readonly min: number; readonly max: number }
  | { readonly t: 'alt'; readonly options: readonly Uint8Array[] };

export interface Segment {
  readonly tokens: readonly Token[];
  /** Minimum gap before this segment (from a `{n-}`); 0 after `*`. */
  readonly minGapBefore: number;
  readonly minLen: number;
}

export interface CompiledPattern {
  readonly segments: readonly Segment[];
  /**
   * A literal run of the first segment used to find candidates, and where it sits: [minOffset, maxOffset] from the
   * segment start.
   */
  readonly anchor: Uint8Array | null;
  readonly anchorMinOffset: number;
  readonly anchorMaxOffset: number;
}

const MAX_GAP = 1 << 20;

export class PatternError extends Error {}

function hexNibble(c: string): number {
  const v = parseInt(c, 16);
  if (Number.isNaN(v)) throw new PatternError(`'${c}' is not a hex digit`);
  return v;
}

function parseGap(body: string): { min: number; max: number } {
  const m = /^(\d*)(-?)(\d*)$/.exec(body);
  if (m === null || (m[1] === '' && m[3] === '')) throw new PatternError(`bad gap {${body}}`);
  const lo = m[1] === '' ? 0 : Number(m[1]);
  if (m[2] === '') return { min: lo, max: lo };
  const hi = m[3] === '' ? Infinity : Number(m[3]);
  if (hi < lo) throw new PatternError(`gap {${body}} has max < min`);
  if (lo > MAX_GAP || (hi !== Infinity && hi > MAX_GAP)) throw new PatternError(`gap {${body}} too large`);
  return { min: lo, max: hi };
}

function parseHexString(s: string): Uint8Array {
  if (s.length === 0 || s.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(s)) throw new PatternError(`bad alternative '${s}'`);
  return Uint8Array.from(s.match(/../g) as string[], (h) => parseInt(h, 16));
}

export function compilePattern(src: string): CompiledPattern {
  const segments: Segment[] = [];
  let tokens: Token[] = [];
  let minGapBefore = 0;
  const close = (nextGap: number): void => {
    if (tokens.length === 0) throw new PatternError('empty pattern segment');
    const minLen = tokens.reduce(
      (n, t) => n + (t.t === 'gap' ? t.min : t.t === 'alt' ? Math.min(...t.options.map((o) => o.length)) : 1), 0,
    );
    segments.push({ tokens, minGapBefore, minLen });
    tokens = [];
    minGapBefore = nextGap;
  };
  let i = 0;
  while (i < src.length) {
    const c = src[i] as string;
    if (c === '*') {
      close(0);
      i++;
    } else if (c === '{') {
      const end = src.indexOf('}', i);
      if (end < 0) throw new PatternError('unclosed {');
      const gap = parseGap(src.slice(i + 1, end));
      if (gap.max === Infinity) close(gap.min);
      else tokens.push({ t: 'gap', min: gap.min, max: gap.max });
      i = end + 1;
    } else if (c === '(') {
      const end = src.indexOf(')', i);
      if (end < 0) throw new PatternError('unclosed (');
      const options = src.slice(i + 1, end).split('|').map(parseHexString);
      if (options.length < 2) throw new PatternError('alternative needs two options');
      tokens.push({ t: 'alt', options });
      i = end + 1;
    } else {
      const a = src[i];
      const b = src[i + 1];
      if (a === undefined || b === undefined) throw new PatternError('odd number of hex digits');
      if (a === '?' && b === '?') tokens.push({ t: 'byte', value: 0, mask: 0 });
      else if (a === '?') tokens.push({ t: 'byte', value: hexNibble(b), mask: 0x0f });
      else if (b === '?') tokens.push({ t: 'byte', value: hexNibble(a) << 4, mask: 0xf0 });
      else tokens.push({ t: 'byte', value: (hexNibble(a) << 4) | hexNibble(b), mask: 0xff });
      i += 2;
    }
  }
  if (tokens.length > 0 || segments.length === 0) close(0);
  else throw new PatternError('pattern ends with an unbounded gap');
  // Anchor: the longest run of exact bytes in the first segment whose offset is bounded.
  const first = segments[0] as Segment;
  let best: { bytes: number[]; min: number; max: number } | null = null;
  let run: number[] = [];
  let runMin = 0;
  let runMax = 0;
  let offMin = 0;
  let offMax = 0;
  const flush = (): void => {
    if (run.length > 0 && (best === null || run.length > best.bytes.length)) {
      best = { bytes: run, min: runMin, max: runMax };
    }
    run = [];
  };
  for (const t of first.tokens) {
    if (t.t === 'byte' && t.mask === 0xff) {
      if (run.length === 0) {
        runMin = offMin;
        runMax = offMax;
      }
      run.push(t.value);
      offMin++;
      offMax++;
    } else {
      flush();
      if (t.t === 'byte') {
        offMin++;
        offMax++;
      } else if (t.t === 'gap') {
        offMin += t.min;
        offMax += t.max;
      } else {
        offMin += Math.min(...t.options.map((o) => o.length));
        offMax += Math.max(...t.options.map((o) => o.length));
      }
    }
  }
  flush();
  const chosen = best as { bytes: number[]; min: number; max: number } | null;
  return {
    segments,
    anchor: chosen === null ? null : Uint8Array.from(chosen.bytes),
    anchorMinOffset: chosen?.min ?? 0,
    anchorMaxOffset: chosen?.max ?? 0,
  };
}

/**
 * Smallest end position of a match of `tokens` starting at `pos`, or -1.
 * Runs the tokens as an NFA over the set of reachable positions, so
 * alternatives of different lengths and ranged gaps cost polynomial work and
 * the smallest end is found (what lets the next segment match as early as it can).
 */
export function matchTokens(data: Uint8Array, pos: number, tokens: readonly Token[], ti: number): number {
  const n = data.length;
  let cur: number[] = [pos];
  for (let k = ti; k < tokens.length && cur.length > 0; k++) {
    const t = tokens[k] as Token;
    const next: number[] = [];
    if (t.t === 'byte') {
      for (const p of cur) if (p < n && ((data[p] as number) & t.mask) === t.value) next.push(p + 1);
    } else if (t.t === 'gap') {
      let last = -1;
      for (const p of cur) {
        for (let g = Math.max(t.min, last - p + 1); g <= t.max && p + g <= n; g++) next.push(p + g);
        last = Math.max(last, Math.min(p + t.max, n));
      }
    } else {
      for (const p of cur) {
        for (const o of t.options) {
          if (p + o.length > n) continue;
          let ok = true;
          for (let j = 0; j < o.length; j++) {
            if (data[p + j] !== o[j]) {
              ok = false;
              break;
            }
          }
          if (ok) next.push(p + o.length);
        }
      }
      next.sort((x, y) => x - y);
    }
    // Positions stay sorted; drop duplicates.
    cur = next.filter((v, i) => i === 0 || v !== next[i - 1]);
  }
  return cur.length > 0 ? (cur[0] as number) : -1;
}

/** The match of `seg` with the smallest end among starts in [from, maxStart]; returns [start, end] or null. */
export function findSegment(
  data: Uint8Array, seg: Segment, from: number, maxStart = data.length,
): [number, number] | null {
  const last = Math.min(maxStart, data.length - seg.minLen);
  let best: [number, number] | null = null;
  for (let s = Math.max(0, from); s <= last; s++) {
    if (best !== null && s + seg.minLen >= best[1]) break;
    const e = matchTokens(data, s, seg.tokens, 0);
    if (e >= 0 && (best === null || e < best[1])) best = [s, e];
  }
  return best;
}

/** The rest of the pattern (segments 1..) after the first segment ended at `end`. */
export function matchRest(data: Uint8Array, pattern: CompiledPattern, end: number): boolean {
  let p = end;
  for (let k = 1; k < pattern.segments.length; k++) {
    const seg = pattern.segments[k] as Segment;
    const found = findSegment(data, seg, p + seg.minGapBefore);
    if (found === null) return false;
    p = found[1];
  }
  return true;
}
