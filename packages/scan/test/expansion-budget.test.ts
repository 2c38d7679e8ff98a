/**
 * Issue 14 class 11: archive expansion is counted — per container (ratio across members), per message
 * (ExpansionBudget) and across concurrent inspections (ExpansionPool). Past a bound the member is unscannable.
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BuiltinEngine, DEFAULT_ARCHIVE_LIMITS, ExpansionBudget, ExpansionPool, inspectTarget,
  type Finding, type InspectOptions,
} from '../src/index.js';
import { ContainerTally, ExpandContext } from '../src/expand-context.js';
import { MemberSplitter } from '../src/sevenzip.js';
import { EICAR, enc, zip } from './helpers.js';

const engines = [new BuiltinEngine()];
const MiB = 1024 * 1024;
const opts = (extra: Partial<InspectOptions> = {}): InspectOptions => ({ engines, timeoutMs: 10_000, ...extra });
const reasons = (r: { findings: readonly Finding[] }): string[] =>
  r.findings.flatMap((f) => (f.kind === 'unscannable' ? [f.reason] : []));

/** The shape of the bomb in the report: 64 members of 1 MiB zeros, each under the single-member checks. */
function manyMemberBomb(): Uint8Array {
  return zip(Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`z${i}.bin`, new Uint8Array(MiB)])), 9);
}

describe('one container: the ratio is checked across its members', () => {
  it('stops the 64 x 1 MiB zip bomb (~70 KiB) after a few MiB, as unscannable', async () => {
    const bomb = manyMemberBomb();
    expect(bomb.length).toBeLessThan(100 * 1024);
    const budget = new ExpansionBudget({ pool: null });
    const r = await inspectTarget({ path: 'b.zip', data: bomb }, opts({ expansionBudget: budget }));
    expect(r.verdict).toBe('unscannable');
    expect(reasons(r)).toEqual([expect.stringMatching(/across the archive \(zip bomb\); the rest/) as string]);
    expect(budget.expanded).toBeLessThanOrEqual(DEFAULT_ARCHIVE_LIMITS.maxRatio * bomb.length + MiB);
  });

  it('keeps scanning an archive of ordinary, poorly compressible members', async () => {
    const files = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`r${i}.bin`, randomBytes(256 * 1024)]));
    const r = await inspectTarget({ path: 'ok.zip', data: zip({ ...files, 'e.com': EICAR }) }, opts());
    expect(r.verdict).toBe('infected');
    expect(reasons(r)).toEqual([]);
  });
});

describe('the process-wide pool and the per-message budget', () => {
  it('refuses members once the pool is full, and gives every byte back when the inspection ends', async () => {
    const pool = new ExpansionPool(2 * MiB + 4096);
    const files = { 'a.bin': randomBytes(MiB), 'b.bin': randomBytes(MiB), 'c.com': EICAR, 'd.bin': randomBytes(MiB) };
    const r = await inspectTarget({ path: 'p.zip', data: zip(files, 0) }, opts({
      expansionBudget: new ExpansionBudget({ pool }),
    }));
    expect(r.verdict).toBe('infected'); // c.com fitted; d.bin did not
    // One finding for the container, not one per member left: the pool stays full for the rest of the part.
    expect(r.findings.filter((f) => f.kind === 'unscannable')).toEqual([{
      kind: 'unscannable', path: 'p.zip', reason: expect.stringMatching(/across concurrent scans.*not opened/) as string,
    }]);
    expect(pool.inUse).toBe(0);
    expect(pool.peak).toBeLessThanOrEqual(2 * MiB + 4096);
  });

  it('bounds concurrent inspections together: 8 at once never hold more than the pool', async () => {
    const pool = new ExpansionPool(4 * MiB);
    const data = zip({ 'a.bin': randomBytes(MiB), 'b.bin': randomBytes(MiB) }, 0);
    const all = await Promise.all(Array.from({ length: 8 }, (_, i) =>
      inspectTarget({ path: `m${i}.zip`, data }, opts({ expansionBudget: new ExpansionBudget({ pool }) }))));
    expect(pool.peak).toBeLessThanOrEqual(4 * MiB);
    expect(pool.inUse).toBe(0);
    // Whatever did not fit is unscannable, never clean.
    for (const r of all) expect(['clean', 'unscannable']).toContain(r.verdict);
  });

  it('counts every part of a message against one budget', async () => {
    const budget = new ExpansionBudget({ maxBytes: 1.5 * MiB, pool: null });
    const part = zip({ 'a.bin': randomBytes(MiB) }, 0);
    const first = await inspectTarget({ path: 'one.zip', data: part }, opts({ expansionBudget: budget }));
    const second = await inspectTarget({ path: 'two.zip', data: part }, opts({ expansionBudget: budget }));
    expect(first.verdict).toBe('clean');
    expect(second.verdict).toBe('unscannable');
    expect(reasons(second)[0]).toMatch(/message's archive content passed its 1572864-byte expansion budget/);
  });

  it('property: the pool is empty after any inspection and never held more than its bound', async () => {
    const pool = new ExpansionPool(3 * MiB);
    await fc.assert(fc.asyncProperty(
      fc.array(fc.integer({ min: 0, max: 900 * 1024 }), { minLength: 1, maxLength: 6 }),
      async (sizes) => {
        const files = Object.fromEntries(sizes.map((n, i) => [`f${i}.bin`, randomBytes(n)]));
        const expansionBudget = new ExpansionBudget({ pool });
        await inspectTarget({ path: 'x.zip', data: zip(files, 0) }, opts({ expansionBudget }));
        expect(pool.inUse).toBe(0);
        expect(pool.peak).toBeLessThanOrEqual(3 * MiB);
      },
    ), { numRuns: 25 });
  });

  it('refuses nonsense bounds at construction', () => {
    expect(() => new ExpansionPool(0)).toThrow(RangeError);
    expect(() => new ExpansionBudget({ maxBytes: -1 })).toThrow(RangeError);
  });
});

describe('MemberSplitter cuts 7-Zip\'s stdout by listed sizes, whatever the chunk boundaries', () => {
  const sizes = [3, 0, 5, 2, 0];
  const stream = enc('aaabbbbbcc');
  const split = (cuts: number[]): { done: string[]; ok: boolean } => {
    const ctx = new ExpandContext(DEFAULT_ARCHIVE_LIMITS, new ExpansionBudget({ pool: null }).lease());
    const tally = new ContainerTally(stream.length);
    const s = new MemberSplitter(sizes, () => ctx.collector(tally));
    let ok = true;
    let at = 0;
    for (const c of [...cuts, stream.length]) {
      ok = s.push(stream.subarray(at, c)) && ok;
      at = c;
    }
    s.end();
    return { done: s.done.map((d) => Buffer.from(d).toString()), ok };
  };

  it('gives the same members at every pair of split points', () => {
    const want = { done: ['aaa', '', 'bbbbb', 'cc', ''], ok: true };
    for (let i = 0; i <= stream.length; i++) {
      for (let j = i; j <= stream.length; j++) expect(split([i, j]), `${i},${j}`).toEqual(want);
    }
  });

  it('refuses bytes beyond the listed sizes', () => {
    const ctx = new ExpandContext(DEFAULT_ARCHIVE_LIMITS, new ExpansionBudget({ pool: null }).lease());
    const s = new MemberSplitter([2], () => ctx.collector(new ContainerTally(10)));
    expect(s.push(enc('abc'))).toBe(false);
    expect(s.done.map((d) => Buffer.from(d).toString())).toEqual(['ab']);
  });
});
