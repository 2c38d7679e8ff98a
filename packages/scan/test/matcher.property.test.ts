/**
 * The multi-pattern matcher agrees with an independent oracle: each hex
 * pattern translated to a JavaScript RegExp over the data as latin1 text.
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BodyMatcher, parseSignatureText } from '../src/index.js';

type Tok =
  | { k: 'lit'; b: number[] } | { k: 'any' } | { k: 'gap'; min: number; max: number } | { k: 'star' }
  | { k: 'alt'; o: number[][] };

const byte = fc.integer({ min: 0x61, max: 0x64 }); // small alphabet so matches happen
const lit = fc.array(byte, { minLength: 1, maxLength: 4 }).map((b): Tok => ({ k: 'lit', b }));
const tok: fc.Arbitrary<Tok> = fc.oneof(
  { weight: 4, arbitrary: lit },
  { weight: 1, arbitrary: fc.constant<Tok>({ k: 'any' }) },
  { weight: 1, arbitrary: fc.tuple(fc.nat(3), fc.nat(3)).map(([a, b]): Tok => ({ k: 'gap', min: a, max: a + b })) },
  { weight: 1, arbitrary: fc.constant<Tok>({ k: 'star' }) },
  {
    weight: 1,
    arbitrary: fc.array(fc.array(byte, { minLength: 1, maxLength: 3 }), { minLength: 2, maxLength: 3 })
      .map((o): Tok => ({ k: 'alt', o })),
  },
);
// A pattern starts and ends with a literal (ClamAV refuses leading/trailing gaps).
const pattern = fc
  .tuple(lit, fc.array(tok, { maxLength: 4 }), lit)
  .map(([a, mid, b]) => [a, ...mid, b])
  // Two unbounded gaps in a row leave an empty segment, which ClamAV refuses too.
  .filter((p) => !p.some((t, i) => t.k === 'star' && p[i + 1]?.k === 'star'));

const h = (b: number[]): string => b.map((x) => x.toString(16).padStart(2, '0')).join('');
function toHex(p: Tok[]): string {
  return p.map((t) => {
    if (t.k === 'lit') return h(t.b);
    if (t.k === 'any') return '??';
    if (t.k === 'gap') return `{${t.min}-${t.max}}`;
    return t.k === 'star' ? '*' : `(${t.o.map(h).join('|')})`;
  }).join('');
}
const esc = (b: number[]): string => b.map((x) => `\\x${x.toString(16).padStart(2, '0')}`).join('');
function toRegex(p: Tok[]): RegExp {
  return new RegExp(p.map((t) => {
    if (t.k === 'lit') return esc(t.b);
    if (t.k === 'any') return '[\\s\\S]';
    if (t.k === 'gap') return `[\\s\\S]{${t.min},${t.max}}`;
    return t.k === 'star' ? '[\\s\\S]*?' : `(?:${t.o.map(esc).join('|')})`;
  }).join(''));
}

/** Data over a five-letter alphabet, so that patterns over four of its letters match often. */
const smallAlphabetData = fc.uint8Array({ maxLength: 200 }).map((d) => d.map((x) => 0x61 + (x % 5)));

describe('BodyMatcher', () => {
  it('finds a signature exactly when the regex oracle does', () => {
    fc.assert(
      fc.property(fc.array(pattern, { minLength: 1, maxLength: 5 }), smallAlphabetData, (pats, data) => {
        const text = Buffer.from(data).toString('latin1');
        const lines = pats.map((p, i) => `S${i}:0:*:${toHex(p)}`).join('\n');
        const { set, problems } = parseSignatureText('p.ndb', lines);
        expect(problems).toEqual([]);
        const got = new BodyMatcher(set.bodies).match(data, () => true);
        const want = pats.some((p) => toRegex(p).test(text));
        expect(got !== null, `${lines}\n${text}`).toBe(want);
      }),
      { numRuns: 3000 },
    );
  });

  it('finds each of 10,000 signatures planted in random data', () => {
    const sigs = Array.from({ length: 10_000 }, () => new Uint8Array(randomBytes(16)));
    const text = sigs.map((s, i) => `Big.${i}:0:*:${Buffer.from(s).toString('hex')}`).join('\n');
    const { set } = parseSignatureText('big.ndb', text);
    const m = new BodyMatcher(set.bodies);
    const base = new Uint8Array(randomBytes(4096));
    for (const i of [0, 1, 4999, 9999]) {
      const d = Uint8Array.from(base);
      d.set(sigs[i] as Uint8Array, 1000);
      expect(m.match(d, () => true)).toBe(`Big.${i}`);
    }
    expect(m.match(base, () => true)).toBeNull();
  });
});
