/**
 * hasZipStructures reads every byte of a part, so a zip appended to media is opened wherever its structures sit
 * (issue 14 class 6). Issue 17 made it one pass for `PK` instead of one search per signature; these tests hold it
 * to the answer of the two searches it replaced, including parts full of `PK` pairs that are not zip structures.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BuiltinEngine, hasZipStructures, inspectTarget } from '../src/index.js';
import { EOCD_SEARCH_BYTES } from '../src/container-kind.js';
import { EICAR, zip, zipOf } from './helpers.js';

const LOCAL = Buffer.from([0x50, 0x4b, 3, 4]);
const EOCD = Buffer.from([0x50, 0x4b, 5, 6]);

/** The definition: a local file header anywhere, or an end-of-central-directory record where unzip looks. */
function reference(d: Uint8Array): boolean {
  const b = Buffer.from(d.buffer, d.byteOffset, d.byteLength);
  return b.indexOf(EOCD, Math.max(0, b.length - EOCD_SEARCH_BYTES)) >= 0 || b.indexOf(LOCAL) >= 0;
}

/** `size` bytes of `fill` with byte strings written over it at the given offsets (taken modulo the size). */
function build(size: number, fill: number, writes: readonly { at: number; bytes: readonly number[] }[]): Buffer {
  const b = Buffer.alloc(size, fill);
  for (const w of writes) {
    const bytes = w.bytes.slice(0, size);
    if (bytes.length > 0) b.set(bytes, Math.min(w.at % size, size - bytes.length));
  }
  return b;
}

const pkPairs = (n: number): Buffer => Buffer.from('PK'.repeat(n), 'latin1');
const jpegHead = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46, 0x49, 0x46, 0]);

describe('hasZipStructures gives the answer of a search for each signature', () => {
  it('agrees with the two searches on parts rich in PK pairs, signatures and their pieces', () => {
    const piece = fc.constantFrom(
      [0x50, 0x4b], [0x50, 0x4b, 3, 4], [0x50, 0x4b, 5, 6], [0x50, 0x4b, 7, 8], [0x50, 0x4b, 0x50, 0x4b, 3, 4],
      [0x50], [0x4b, 3, 4], [5, 6], [0x50, 0x4b, 5], [0x50, 0x4b, 3],
    );
    const part = fc.record({
      // Up to twice the end-of-central-directory window, so records just inside and just outside it occur.
      size: fc.integer({ min: 0, max: 2 * EOCD_SEARCH_BYTES }),
      fill: fc.constantFrom(0, 0x50, 0x4b, 0xff),
      writes: fc.array(fc.record({ at: fc.nat(), bytes: piece }), { maxLength: 40 }),
      pairs: fc.integer({ min: 0, max: 40 }),
    });
    fc.assert(fc.property(part, ({ size, fill, writes, pairs }) => {
      const d = Buffer.concat([pkPairs(pairs), build(size, fill, writes)]);
      expect(hasZipStructures(d)).toBe(reference(d));
      // A view into a larger buffer: offsets are the view's, not the buffer's.
      const inner = Buffer.concat([LOCAL, d, LOCAL]).subarray(4, 4 + d.length);
      expect(hasZipStructures(inner)).toBe(reference(d));
    }), { numRuns: Number(process.env.FC_RUNS ?? 300) });
  });

  it('finds a local file header after more PK pairs than it follows up one by one', () => {
    const d = Buffer.concat([pkPairs(50_000), Buffer.from('x'), LOCAL]);
    expect(hasZipStructures(d)).toBe(true);
    expect(hasZipStructures(Buffer.concat([pkPairs(50_000), Buffer.from('PK\x03')]))).toBe(false);
  });

  it('finds an end-of-central-directory record only in the last 64 KiB + 22 bytes, after any PK pairs', () => {
    for (const pairs of [0, 3, 100]) {
      const inside = Buffer.concat([pkPairs(pairs), Buffer.alloc(100_000), EOCD, Buffer.alloc(EOCD_SEARCH_BYTES - 4)]);
      const outside = Buffer.concat([pkPairs(pairs), Buffer.alloc(100_000), EOCD, Buffer.alloc(EOCD_SEARCH_BYTES - 3)]);
      expect(hasZipStructures(inside)).toBe(true);
      expect(hasZipStructures(outside)).toBe(false);
    }
  });

  it('sees no zip in media bytes that hold PK pairs but no signature', () => {
    const d = Buffer.concat([jpegHead, Buffer.alloc(300 * 1024, 0x50)]);
    for (let i = 1000; i < d.length - 1; i += 4099) d.set([0x50, 0x4b], i);
    expect(hasZipStructures(d)).toBe(false);
  });
});

describe('a zip appended to media with many PK pairs is still opened', () => {
  const engines = [new BuiltinEngine()];
  const inspect = (data: Uint8Array) =>
    inspectTarget({ path: 'a.jpg', data, name: 'a.jpg', declaredType: 'image/jpeg' }, { engines, timeoutMs: 10_000 });
  const media = Buffer.concat([jpegHead, pkPairs(5_000), Buffer.alloc(200_000, 0x4b)]);

  it('opens the appended zip and finds EICAR in it', async () => {
    const r = await inspect(Buffer.concat([media, zip({ 'eicar.com': EICAR })]));
    expect(r.findings.filter((f) => f.kind === 'infected').map((f) => f.path)).toEqual(['a.jpg/eicar.com']);
  });

  it('opens an appended zip whose central directory was cut off (local headers only)', async () => {
    const whole = zipOf([{ name: 'eicar.com', data: EICAR, method: 0 }]);
    const localsOnly = whole.subarray(0, whole.readUInt32LE(whole.length - 6));
    const r = await inspect(Buffer.concat([media, localsOnly]));
    expect(r.findings.filter((f) => f.kind === 'infected').map((f) => f.path)).toEqual(['a.jpg/eicar.com']);
  });
});
