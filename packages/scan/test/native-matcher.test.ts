/**
 * The Vectorscan prefilter (when the addon is built) finds exactly what the
 * JavaScript matcher finds. Skipped with a notice when libvectorscan-dev was
 * not installed at build time; CI installs it.
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadVectorscan } from '@mmsguard/scan-vectorscan';
import {
  BodyMatcher, BuiltinEngine, NativeBodyMatcher, parseSignatureText, patternToRegex, compilePattern,
} from '../src/index.js';
import { turnsDuring } from './helpers.js';

const binding = loadVectorscan();
if (binding === null) {
  console.warn('NOTICE: Vectorscan addon not built (apt-get install libvectorscan-dev); native matcher tests skipped.');
}

const hexByte = fc.integer({ min: 0x61, max: 0x64 }).map((b) => b.toString(16));
const piece = fc.oneof(
  { weight: 4, arbitrary: fc.array(hexByte, { minLength: 1, maxLength: 4 }).map((a) => a.join('')) },
  { weight: 1, arbitrary: fc.constant('??') },
  { weight: 1, arbitrary: fc.constant('6?') },
  { weight: 1, arbitrary: fc.tuple(fc.nat(3), fc.nat(3)).map(([a, b]) => `{${a}-${a + b}}`) },
  { weight: 1, arbitrary: fc.constant('*') },
  {
    weight: 1,
    arbitrary: fc.array(fc.array(hexByte, { minLength: 1, maxLength: 2 }).map((a) => a.join('')), {
      minLength: 2, maxLength: 3,
    }).map((o) => `(${o.join('|')})`),
  },
);
const pattern = fc
  .tuple(
    fc.array(hexByte, { minLength: 1, maxLength: 3 }), fc.array(piece, { maxLength: 4 }),
    fc.array(hexByte, { minLength: 1, maxLength: 3 }),
  )
  .map(([a, mid, b]) => `${a.join('')}${mid.join('')}${b.join('')}`)
  .filter((p) => !p.includes('**'));

/** Data over a five-letter alphabet, so that patterns over four of its letters match often. */
const smallAlphabetData = fc.uint8Array({ maxLength: 200 }).map((d) => d.map((x) => 0x61 + (x % 5)));

describe.skipIf(binding === null)('Vectorscan matcher', () => {
  it('translates patterns to the regexes Hyperscan expects', () => {
    expect(patternToRegex(compilePattern('4142??43{1-2}44*45(4647|48)')))
      .toBe('\\x41\\x42.\\x43.{1,2}\\x44.*\\x45(?:\\x46\\x47|\\x48)');
  });

  it('agrees with the JavaScript matcher on random patterns and data', () => {
    fc.assert(
      fc.property(fc.array(pattern, { minLength: 1, maxLength: 5 }), smallAlphabetData, (pats, data) => {
        const { set, problems } = parseSignatureText('p.ndb', pats.map((p, i) => `S${i}:0:*:${p}`).join('\n'));
        expect(problems).toEqual([]);
        const js = new BodyMatcher(set.bodies).match(data, () => true);
        const native = NativeBodyMatcher.build(set.bodies, binding!).match(data, () => true);
        expect(native !== null, pats.join(' ')).toBe(js !== null);
      }),
      { numRuns: 1000 },
    );
  });

  it('is what the built-in engine uses by default, and finds planted signatures among 10,000', () => {
    const sigs = Array.from({ length: 10_000 }, () => randomBytes(16));
    const { set } = parseSignatureText('big.ndb', sigs.map((s, i) => `Big.${i}:0:*:${s.toString('hex')}`).join('\n'));
    const engine = new BuiltinEngine(set);
    expect(engine.matcherKind).toBe('vectorscan');
    const d = new Uint8Array(randomBytes(8192));
    d.set(sigs[4242] as Uint8Array, 100);
    expect(engine.scanSync(d)).toEqual({ kind: 'infected', name: 'Big.4242' });
  });

  it('compiles off the event loop: the loop keeps turning while 10,000 signatures compile (create)', async () => {
    const sigs = Array.from({ length: 10_000 }, () => randomBytes(16));
    const { set } = parseSignatureText('big.ndb', sigs.map((s, i) => `Big.${i}:0:*:${s.toString('hex')}`).join('\n'));
    const { value: engine, turns } = await turnsDuring(() => BuiltinEngine.create(set));
    // A compile on the main thread lets no setImmediate run before it returns (it was so before create).
    expect(turns).toBeGreaterThan(1);
    expect(engine.matcherKind).toBe('vectorscan');
    const d = new Uint8Array(randomBytes(8192));
    d.set(sigs[17] as Uint8Array, 4000);
    expect(engine.scanSync(d)).toEqual({ kind: 'infected', name: 'Big.17' });
  });

  it('compileAsync refuses what compile refuses, naming the expression (the retry loop depends on it)', async () => {
    // Hyperscan refuses back-references (PCRE features it does not support).
    const exprs = ['\\x41\\x42', '(a)\\1', '\\x43'];
    expect(() => binding!.compile(exprs)).toThrow(expect.objectContaining({ expression: 1 }) as Error);
    await expect(binding!.compileAsync(exprs)).rejects.toMatchObject({ expression: 1 });
    await expect(binding!.compileAsync([1] as unknown as string[])).rejects.toThrow(TypeError);
  });

  it('agrees with the thread-pool compile on random patterns (compile vs build)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(pattern, { minLength: 1, maxLength: 5 }), smallAlphabetData, async (pats, data) => {
        const { set } = parseSignatureText('p.ndb', pats.map((p, i) => `S${i}:0:*:${p}`).join('\n'));
        const sync = NativeBodyMatcher.build(set.bodies, binding!).match(data, () => true);
        const pooled = (await NativeBodyMatcher.compile(set.bodies, binding!)).match(data, () => true);
        expect(pooled, pats.join(' ')).toBe(sync);
      }),
      { numRuns: 200 },
    );
  });

  it('scans an empty part (regression: hs_scan refused the null pointer of an empty typed array)', () => {
    const { set } = parseSignatureText('e.ndb', 'E:0:*:41424344');
    expect(new BuiltinEngine(set).scanSync(new Uint8Array(0))).toEqual({ kind: 'clean' });
  });

  it('keeps offset and target rules exact (verified in JavaScript)', () => {
    const { set } = parseSignatureText('o.ndb', 'AtZero:0:0:41424344\nPeOnly:1:*:45464748');
    const engine = new BuiltinEngine(set);
    expect(engine.scanSync(Buffer.from('xABCD')).kind).toBe('clean');
    expect(engine.scanSync(Buffer.from('ABCDx')).kind).toBe('infected');
    expect(engine.scanSync(Buffer.from('xxEFGH')).kind).toBe('clean');
  });
});
