import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { checksumOf } from '../src/pipeline/bulk.js';

describe('duplicate fingerprint', () => {
  it('is the same for the same pieces and differs when bytes move between pieces', () => {
    expect(checksumOf(['ab', 'c'])).toBe(checksumOf([Buffer.from('ab'), 'c']));
    expect(checksumOf(['ab', 'c'])).not.toBe(checksumOf(['a', 'bc']));
    expect(checksumOf(['abc', ''])).not.toBe(checksumOf(['ab', 'c']));
    const pieces = fc.array(fc.uint8Array({ maxLength: 8 }), { maxLength: 5 });
    fc.assert(fc.property(pieces, pieces, (a, b) => {
      const same = a.length === b.length && a.every((x, i) => Buffer.compare(x, b[i]!) === 0);
      expect(checksumOf(a) === checksumOf(b)).toBe(same);
    }), { numRuns: 2000 });
  });
});
