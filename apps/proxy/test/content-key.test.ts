import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { contentKey } from '../src/pipeline/inspect.js';
import type { Leaf } from '../src/pipeline/scan.js';

function leaf(data: Uint8Array): Leaf {
  return { id: '1', path: null, data, decoded: null, names: [], contentType: '', encodings: [], unscannable: null };
}

/** Views of `body` between sorted cut points taken in pairs: the targets an adapter would find. */
function targetsOf(body: Uint8Array, cuts: readonly number[]): Leaf[] {
  const at = [...new Set(cuts.map((c) => c % (body.length + 1)))].sort((a, b) => a - b);
  const out: Leaf[] = [];
  for (let i = 0; i + 1 < at.length; i += 2) out.push(leaf(body.subarray(at[i], at[i + 1])));
  return out;
}

describe('verdict cache content key', () => {
  it('is the same for the same bytes split the same way, in another buffer and whatever the order of targets', () => {
    const body = Buffer.from('headers|part one|more|part two|tail');
    const copy = Buffer.concat([Buffer.from('xx'), body]).subarray(2);
    const cuts = [8, 16, 21, 29];
    expect(contentKey(copy, targetsOf(copy, cuts))).toBe(contentKey(body, targetsOf(body, cuts)));
    expect(contentKey(body, targetsOf(body, cuts).reverse())).toBe(contentKey(body, targetsOf(body, cuts)));
  });

  it('ignores targets that are no view of the body (decoded copies)', () => {
    const body = Buffer.from('headers|part one|tail');
    const targets = targetsOf(body, [8, 16]);
    expect(contentKey(body, [...targets, leaf(Buffer.from('part one'))])).toBe(contentKey(body, targets));
  });

  it('differs whenever the bytes differ, wherever the targets lie', () => {
    const msg = fc.record({ body: fc.uint8Array({ maxLength: 24 }), cuts: fc.array(fc.nat(), { maxLength: 6 }) });
    fc.assert(fc.property(msg, msg, (a, b) => {
      const ka = contentKey(a.body, targetsOf(a.body, a.cuts));
      const kb = contentKey(b.body, targetsOf(b.body, b.cuts));
      if (ka === kb) expect(Buffer.compare(a.body, b.body)).toBe(0);
    }), { numRuns: 3000 });
    // Bytes moved from a part into the bytes around it.
    const body = Buffer.from('ab|cd');
    expect(contentKey(body, targetsOf(body, [0, 3]))).not.toBe(contentKey(body, targetsOf(body, [0, 2])));
  });
});
