/**
 * Totality of the archive walk: arbitrary bytes, and real archives of every opened format with bytes flipped,
 * cut or spliced, give targets and unscannable findings — never an exception, never a held pool byte afterwards.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { ExpansionBudget, ExpansionPool, expandArchives } from '../src/index.js';
import {
  EICAR, enc, gzip, rar4Stored, rar5Stored, sevenZipArchive, tar, v7tar, zip, zipOf, zstdRaw,
} from './helpers.js';

const seeds: Record<string, Uint8Array> = {};
beforeAll(async () => {
  const files = { 'a.txt': enc('hello world '.repeat(40)), 'e.com': EICAR };
  Object.assign(seeds, {
    zip: zip(files), hidden: zipOf([{ name: 'a', data: EICAR, descriptor: true, listed: false }]),
    gzip: gzip(EICAR), tar: await tar(files), v7: await v7tar(files), rar4: rar4Stored(files), rar5: rar5Stored(files),
    '7z': await sevenZipArchive(files, '7z'), xz: await sevenZipArchive({ 'e.com': EICAR }, 'xz'),
    bzip2: await sevenZipArchive({ 'a.txt': files['a.txt'] }, 'bzip2'), zstd: zstdRaw(EICAR),
  });
});

const pool = new ExpansionPool(64 * 1024 * 1024);
async function expandOk(data: Uint8Array): Promise<void> {
  const e = await expandArchives({ path: 'x', data }, undefined, { budget: new ExpansionBudget({ pool }) });
  expect(e.targets[0]?.data).toBe(data);
  for (const u of e.unscannable) expect(typeof u.reason).toBe('string');
  e.release();
  expect(pool.inUse).toBe(0);
}

describe('the archive walk is total', () => {
  it('takes arbitrary bytes', async () => {
    const numRuns = Number(process.env.FC_RUNS ?? 300);
    await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 2000 }), expandOk), { numRuns });
  });

  it('takes every format with bytes flipped, cut or spliced', async () => {
    const kinds = Object.keys(seeds);
    const mutation = fc.record({
      kind: fc.constantFrom(...kinds),
      flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
      cut: fc.option(fc.nat()),
      splice: fc.option(fc.tuple(fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 16 }))),
    });
    await fc.assert(fc.asyncProperty(mutation, async ({ kind, flips, cut, splice }) => {
      const seed = seeds[kind] as Uint8Array;
      let d = Buffer.from(seed);
      for (const [at, b] of flips) d[at % d.length] = b;
      if (splice !== null) {
        const at = splice[0] % d.length;
        d = Buffer.concat([d.subarray(0, at), splice[1], d.subarray(at)]);
      }
      if (cut !== null) d = d.subarray(0, cut % (d.length + 1));
      await expandOk(d);
    }), { numRuns: Number(process.env.FC_RUNS ?? 150) });
  });
});
