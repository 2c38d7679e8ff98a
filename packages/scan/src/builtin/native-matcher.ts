/**
 * Body signatures through Vectorscan (optional native addon): each pattern is
 * translated to a Hyperscan regex, the whole set compiled into one database,
 * and every id it reports is verified by the JavaScript matcher's exact check
 * (offsets, target types). Patterns Vectorscan refuses stay with the
 * JavaScript matcher, so nothing is dropped.
 */
import type { VectorscanBinding, VectorscanDatabase } from '@mmsguard/scan-vectorscan';
import type { CompiledPattern, Token } from './hex-pattern.js';
import { BodyMatcher, type TargetFilter, verify } from './matcher.js';
import type { BodySignature } from './signatures.js';

const hx = (b: number): string => `\\x${b.toString(16).padStart(2, '0')}`;

function tokenRegex(t: Token): string {
  if (t.t === 'gap') return t.min === t.max ? `.{${t.min}}` : `.{${t.min},${t.max}}`;
  if (t.t === 'alt') return `(?:${t.options.map((o) => Array.from(o, hx).join('')).join('|')})`;
  if (t.mask === 0xff) return hx(t.value);
  if (t.mask === 0) return '.';
  const bytes: string[] = [];
  for (let b = 0; b < 256; b++) if ((b & t.mask) === t.value) bytes.push(hx(b));
  return `[${bytes.join('')}]`;
}

/** A Hyperscan (PCRE-subset) regex for the pattern, to be compiled with HS_FLAG_DOTALL. */
export function patternToRegex(p: CompiledPattern): string {
  return p.segments
    .map((seg, i) => {
      const gap = i === 0 ? '' : seg.minGapBefore > 0 ? `.{${seg.minGapBefore},}` : '.*';
      return gap + seg.tokens.map(tokenRegex).join('');
    })
    .join('');
}

/**
 * After a compile refused the expression `e.expression` names, the signatures to try again (that one moves to
 * `refused`); null when the error names none of them (all are refused, matched in JavaScript).
 */
function withoutRefused(e: unknown, included: BodySignature[], refused: BodySignature[]): BodySignature[] | null {
  const which = (e as { expression?: number }).expression ?? -1;
  if (which < 0 || which >= included.length) {
    // A loop, not push(...included): a spread over V8's argument limit (~120,000) throws a RangeError.
    for (const s of included) refused.push(s);
    return null;
  }
  refused.push(included[which] as BodySignature);
  return included.filter((_, i) => i !== which);
}

const regexes = (sigs: readonly BodySignature[]): string[] => sigs.map((s) => patternToRegex(s.pattern));

export class NativeBodyMatcher {
  private readonly fallback: BodyMatcher;
  readonly size: number;

  private constructor(
    sigs: readonly BodySignature[], private readonly db: VectorscanDatabase | null,
    private readonly compiled: readonly BodySignature[], refused: readonly BodySignature[],
  ) {
    this.size = sigs.length;
    this.fallback = new BodyMatcher(refused);
  }

  /** Compiles on the calling thread (tests, benches, a CLI): seconds for 10,000 signatures. */
  static build(sigs: readonly BodySignature[], binding: VectorscanBinding): NativeBodyMatcher {
    const refused: BodySignature[] = [];
    for (let included: BodySignature[] | null = [...sigs]; included !== null && included.length > 0;) {
      try {
        return new NativeBodyMatcher(sigs, binding.compile(regexes(included)), included, refused);
      } catch (e) {
        included = withoutRefused(e, included, refused);
      }
    }
    return new NativeBodyMatcher(sigs, null, [], refused);
  }

  /** The same, compiled on libuv's thread pool: a server's start and reloads keep serving meanwhile. */
  static async compile(sigs: readonly BodySignature[], binding: VectorscanBinding): Promise<NativeBodyMatcher> {
    const refused: BodySignature[] = [];
    for (let included: BodySignature[] | null = [...sigs]; included !== null && included.length > 0;) {
      try {
        return new NativeBodyMatcher(sigs, await binding.compileAsync(regexes(included)), included, refused);
      } catch (e) {
        included = withoutRefused(e, included, refused);
      }
    }
    return new NativeBodyMatcher(sigs, null, [], refused);
  }

  /** Signatures the native database refused (matched in JavaScript instead). */
  get refusedCount(): number {
    return this.fallback.size;
  }

  get slowCount(): number {
    return this.fallback.slowCount;
  }

  match(data: Uint8Array, accepts: TargetFilter): string | null {
    if (this.db !== null) {
      const ids = this.db.scan(data).sort((a, b) => a - b);
      for (const id of ids) {
        const sig = this.compiled[id] as BodySignature;
        if (accepts(sig.target) && verify(data, sig, 0, data.length)) return sig.name;
      }
    }
    return this.fallback.size > 0 ? this.fallback.match(data, accepts) : null;
  }
}
