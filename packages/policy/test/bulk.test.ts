import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryStore, checkBulk, parseThresholds } from '../src/index.js';
import { storeConformance } from './store-conformance.js';

describe('thresholds', () => {
  it('parses up to three LIMIT/WINDOW:ACTIONS[:BLOCK] entries', () => {
    const t = parseThresholds('5/10:log; 10/60:block+alert:300;50/3600:block:86400');
    expect(t.map((x) => [x.limit, x.windowMs, [...x.actions].sort().join('+'), x.blockMs])).toEqual([
      [5, 10_000, 'log', 0], [10, 60_000, 'alert+block', 300_000], [50, 3_600_000, 'block', 86_400_000],
    ]);
  });

  it('refuses malformed entries, unknown actions, blocks without a time, and a fourth threshold', () => {
    for (const bad of ['5:log', '5/10:kill', '5/10:block', '0/10:log', '1/1:log;1/1:log;1/1:log;1/1:log']) {
      expect(() => parseThresholds(bad), bad).toThrow(RangeError);
    }
  });
});

describe('checkBulk with a fake clock', () => {
  const th = parseThresholds('3/10:log;5/10:block+alert:60');

  it('logs past the first limit, blocks past the second, and counts only the window', async () => {
    const s = new MemoryStore();
    const seen = [];
    for (let i = 0; i < 6; i++) seen.push(await checkBulk(s, 'flood', '+47', th, 1000 + i));
    expect(seen.map((v) => [v.threshold, v.blocked]))
      .toEqual([[-1, false], [-1, false], [-1, false], [0, false], [0, false], [1, true]]);
    // another sender is not affected
    expect((await checkBulk(s, 'flood', '+48', th, 1010)).blocked).toBe(false);
  });

  it('restarts the block timer on every attempt during a block', async () => {
    const s = new MemoryStore();
    for (let i = 0; i < 6; i++) await checkBulk(s, 'flood', 'a', th, i);
    // The block would have ended at 60,005.
    expect((await checkBulk(s, 'flood', 'a', th, 50_000)).duringBlock).toBe(true);
    // Restarted at 50,000: it ends at 110,000.
    expect((await checkBulk(s, 'flood', 'a', th, 100_000)).duringBlock).toBe(true);
    // Restarted at 100,000: it ended at 160,000.
    expect((await checkBulk(s, 'flood', 'a', th, 170_001)).blocked).toBe(false);
  });

  it('forgets events older than the window', async () => {
    const s = new MemoryStore();
    for (let i = 0; i < 3; i++) await checkBulk(s, 'dupe', 'sha', th, i);
    expect((await checkBulk(s, 'dupe', 'sha', th, 3)).threshold).toBe(0); // 4 in (−9997, 3]
    // at 12,000 the window (2,000, 12,000] holds only this attempt
    expect((await checkBulk(s, 'dupe', 'sha', th, 12_000)).threshold).toBe(-1);
  });

  it('lists and releases blocks', async () => {
    const s = new MemoryStore();
    for (let i = 0; i < 6; i++) await checkBulk(s, 'flood', 'x', th, i);
    expect(await s.listBlocks('flood:block:', 10)).toEqual([{ key: 'flood:block:x', until: 60_005 }]);
    expect(await s.release('flood:block:x')).toBe(true);
    expect((await checkBulk(s, 'flood', 'x', th, 20)).duringBlock).toBe(false);
  });
});

describe('MemoryStore housekeeping', () => {
  it('keeps a long window\u2019s events when sweeping after hits with a short window', async () => {
    const s = new MemoryStore();
    await s.hit('long', 3_600_000, 0);
    await s.hit('long', 3_600_000, 1);
    // 1,024 hits on a 1-second window trigger a sweep at t = 60 s
    for (let i = 0; i < 1024; i++) await s.hit(`short:${i % 7}`, 1000, 60_000);
    expect(await s.hit('long', 3_600_000, 60_001)).toBe(3);
  });

  it('holds at most maxKeys keys: unique contents forget the least recently counted, a hot key stays', async () => {
    const s = new MemoryStore({ maxKeys: 100 });
    for (let i = 0; i < 5_000; i++) {
      await s.hit(`dupe:${i}`, 3_600_000, 1000 + i);
      // A spam wave: its key is counted between every two new ones, so it is never the least recent.
      if (i % 2 === 0) await s.hit('dupe:wave', 3_600_000, 1000 + i);
    }
    expect(s.keys).toEqual({ held: 100, evicted: 4_901 });
    expect(await s.hit('dupe:wave', 3_600_000, 9_000)).toBe(2_501);
    // The newest unique keys are still counted; the oldest were forgotten (their window starts again).
    expect(await s.hit('dupe:4999', 3_600_000, 9_001)).toBe(2);
    expect(await s.hit('dupe:0', 3_600_000, 9_002)).toBe(1);
    expect(() => new MemoryStore({ maxKeys: 0 })).toThrow(RangeError);
  });

  it('sweeps expired keys from the least recently counted on, stopping at the first still counting', async () => {
    const s = new MemoryStore();
    for (let i = 0; i < 3_000; i++) await s.hit(`old:${i}`, 1000, i);
    await s.hit('live', 3_600_000, 10_000);
    for (let i = 0; i < 1024; i++) await s.hit('live', 3_600_000, 10_000);
    expect(s.keys.held).toBe(1);
  });

  it('drops keys whose own window has passed', async () => {
    const s = new MemoryStore();
    await s.hit('old', 1000, 0);
    for (let i = 0; i < 1024; i++) await s.hit('other', 1000, 10_000);
    expect(await s.hit('old', 1000, 10_001)).toBe(1);
  });
});

describe('MemoryStore against a plain model', () => {
  it('counts exactly what falls in the window, for any order of clocks and windows', async () => {
    await fc.assert(fc.asyncProperty(
      fc.array(fc.record({
        key: fc.constantFrom('a', 'b'), dt: fc.integer({ min: -5, max: 40 }), win: fc.constantFrom(10, 50),
      }), { maxLength: 300 }),
      async (ops) => {
        const s = new MemoryStore();
        const model = new Map<string, number[]>();
        let clock = 1000;
        for (const op of ops) {
          clock += op.dt; // occasionally backwards: concurrent callers read the clock in another order
          const key = `${op.key}:${op.win}`;
          // events older than the window at a hit are forgotten for good (a late clock does not revive them)
          const list = [...(model.get(key) ?? []).filter((t) => t > clock - op.win), clock];
          model.set(key, list);
          const want = list.length;
          expect(await s.hit(key, op.win, clock)).toBe(want);
        }
      },
    ), { numRuns: 1000 });
  });
});

describe('MemoryStore with a cap (limit + 1 events kept per key)', () => {
  it('reports min(true count, cap), so count > limit is decided exactly with bounded memory', async () => {
    await fc.assert(fc.asyncProperty(
      fc.integer({ min: 1, max: 6 }),
      fc.array(fc.record({ key: fc.constantFrom('a', 'b'), dt: fc.integer({ min: 0, max: 30 }) }), { maxLength: 300 }),
      async (cap, ops) => {
        const s = new MemoryStore();
        const model = new Map<string, number[]>();
        let clock = 1000;
        for (const op of ops) {
          clock += op.dt;
          const list = [...(model.get(op.key) ?? []).filter((t) => t > clock - 50), clock];
          model.set(op.key, list);
          expect(await s.hit(op.key, 50, clock, cap)).toBe(Math.min(list.length, cap));
        }
      },
    ), { numRuns: 500 });
  });
});

describe('MemoryStore conformance', () => {
  storeConformance(() => new MemoryStore());
});
