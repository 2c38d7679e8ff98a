/**
 * The built-in engine: EICAR, ClamAV hash signatures (.hdb/.hsb) and body
 * signatures (.ndb). Needs no daemon; it is the embedded default. Scanning is
 * synchronous CPU work, so it runs to completion once started (its cost is
 * bounded by the target size; see bench/).
 */
import type { EngineInfo, ScanEngine, ScanOutcome, ScanTarget } from '../types.js';
import { CLEAN } from '../types.js';
import { EICAR_NAME, isEicar } from './eicar.js';
import { loadVectorscan } from '@mmsguard/scan-vectorscan';
import { BodyMatcher, type TargetFilter } from './matcher.js';
import { HashIndex } from './hash-index.js';
import { NativeBodyMatcher } from './native-matcher.js';
import { loadSignatureFiles, type SignatureSet } from './signatures.js';

export interface BuiltinOptions {
  /** Use the Vectorscan addon when it is built (default true); false forces the JavaScript matcher. */
  readonly native?: boolean;
}

function isPe(d: Uint8Array): boolean {
  return d.length > 2 && d[0] === 0x4d && d[1] === 0x5a;
}
function isElf(d: Uint8Array): boolean {
  return d.length > 4 && d[0] === 0x7f && d[1] === 0x45 && d[2] === 0x4c && d[3] === 0x46;
}
function isMachO(d: Uint8Array): boolean {
  if (d.length < 4) return false;
  const m = ((d[0] as number) << 24) | ((d[1] as number) << 16) | ((d[2] as number) << 8) | (d[3] as number);
  return [0xfeedface, 0xfeedfacf, 0xcefaedfe, 0xcffaedfe, 0xcafebabe].includes(m >>> 0);
}

const wantsNative = (sigs: SignatureSet, opts: BuiltinOptions): boolean =>
  opts.native !== false && sigs.bodies.length > 0;

export class BuiltinEngine implements ScanEngine {
  readonly name = 'builtin';
  private readonly hashes: HashIndex;
  private readonly matcher: {
    readonly size: number;
    readonly slowCount: number;
    match(d: Uint8Array, a: TargetFilter): string | null;
  };
  /** Which body matcher runs: the Vectorscan addon when built, else JavaScript. */
  readonly matcherKind: 'vectorscan' | 'js';
  /** Fixed with the signatures: a readiness probe costs nothing, and a reload builds a new engine. */
  private readonly info: EngineInfo;

  /**
   * Builds the engine here and now; with the Vectorscan addon that compiles every body signature on this thread
   * (seconds for 10,000). A server uses `create`, which does the slow parts off the event loop or in slices.
   * `prepared`: what `create` built for these signatures.
   */
  constructor(
    sigs: SignatureSet = { hashes: [], bodies: [] }, opts: BuiltinOptions = {},
    prepared: { readonly hashes?: HashIndex; readonly matcher?: NativeBodyMatcher } = {},
  ) {
    this.hashes = prepared.hashes ?? HashIndex.buildSync(sigs.hashes);
    const native = prepared.matcher !== undefined || !wantsNative(sigs, opts) ? null : loadVectorscan();
    this.matcher = prepared.matcher
      ?? (native !== null ? NativeBodyMatcher.build(sigs.bodies, native) : new BodyMatcher(sigs.bodies));
    this.matcherKind = this.matcher instanceof NativeBodyMatcher ? 'vectorscan' : 'js';
    const files = (sigs.files ?? []).map((f) => Object.freeze({ ...f, kinds: Object.freeze([...f.kinds]) }));
    this.info = Object.freeze({
      signatures: sigs.hashes.length + sigs.bodies.length, files: Object.freeze(files), eicar: true,
    });
  }

  /**
   * The engine without taking the event loop for long: the Vectorscan database compiles on libuv's thread pool
   * while the hash signatures are indexed a slice per turn.
   */
  static async create(sigs: SignatureSet, opts: BuiltinOptions = {}): Promise<BuiltinEngine> {
    const native = wantsNative(sigs, opts) ? loadVectorscan() : null;
    const [hashes, matcher] = await Promise.all([
      HashIndex.build(sigs.hashes),
      native === null ? undefined : NativeBodyMatcher.compile(sigs.bodies, native),
    ]);
    return new BuiltinEngine(sigs, opts, matcher === undefined ? { hashes } : { hashes, matcher });
  }

  static async fromFiles(files: readonly string[], opts: BuiltinOptions = {}): Promise<BuiltinEngine> {
    return BuiltinEngine.create(await loadSignatureFiles(files), opts);
  }

  get stats(): {
    hashSignatures: number; bodySignatures: number; slowBodySignatures: number; matcher: 'vectorscan' | 'js';
  } {
    return {
      hashSignatures: this.hashes.count, bodySignatures: this.matcher.size, slowBodySignatures: this.matcher.slowCount,
      matcher: this.matcherKind,
    };
  }

  ready(): Promise<void> {
    return Promise.resolve();
  }

  /** The signature files as loaded (path, SHA-256, count, kinds); EICAR is always on. */
  describe(): Promise<EngineInfo> {
    return Promise.resolve(this.info);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  scanSync(data: Uint8Array): ScanOutcome {
    if (isEicar(data)) return { kind: 'infected', name: EICAR_NAME };
    const hash = this.hashes.lookup(data);
    if (hash !== null) return { kind: 'infected', name: hash };
    const body = this.matcher.match(data, (t) => this.acceptsTarget(t, data));
    if (body !== null) return { kind: 'infected', name: body };
    return CLEAN;
  }

  scan(target: ScanTarget, signal: AbortSignal): Promise<ScanOutcome> {
    if (signal.aborted) return Promise.resolve({ kind: 'skipped', reason: 'aborted before start' });
    return Promise.resolve(this.scanSync(target.data));
  }

  private acceptsTarget(t: number, d: Uint8Array): boolean {
    switch (t) {
      case 1:
        return isPe(d);
      case 6:
        return isElf(d);
      case 9:
        return isMachO(d);
      default:
        return true;
    }
  }
}
