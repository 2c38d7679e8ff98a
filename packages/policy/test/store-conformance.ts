/**
 * What every CounterStore must do, as tests: the memory store runs them here, the Redis store in
 * packages/state-redis (against a real redis-server), so both decide alike.
 */
import { expect, it } from 'vitest';
import { checkBulk, checkBulkMany, parseThresholds, releaseBulk, topCounts, type CounterStore } from '../src/index.js';

export function storeConformance(make: () => CounterStore | Promise<CounterStore>): void {
  const withStore = (f: (s: CounterStore, t0: number) => Promise<void>) => async (): Promise<void> => {
    const s = await make();
    try {
      await f(s, Date.now());
    } finally {
      await s.close();
    }
  };

  it('logs past the first limit, blocks past the second, and restarts the block on every attempt',
    withStore(async (s, t0) => {
    const th = parseThresholds('3/10:log;5/10:block+alert:60');
    const seen = [];
    for (let i = 0; i < 6; i++) seen.push(await checkBulk(s, 'flood', '+47', th, t0 + i));
    expect(seen.map((v) => [v.threshold, v.blocked, v.count])).toEqual([
      [-1, false, 0], [-1, false, 0], [-1, false, 0], [0, false, 4], [0, false, 4], [1, true, 6],
    ]);
    expect([...seen[5]!.actions].sort()).toEqual(['alert', 'block']);
    expect((await checkBulk(s, 'flood', '+48', th, t0 + 10)).blocked).toBe(false);
    // blocked until t0+5+60,000; an attempt at +50,000 restarts it to +110,000, one at +100,000 to +160,000
    expect((await checkBulk(s, 'flood', '+47', th, t0 + 50_000)).duringBlock).toBe(true);
    expect((await checkBulk(s, 'flood', '+47', th, t0 + 100_000)).duringBlock).toBe(true);
    expect((await s.listBlocks('flood:block:', t0 + 100_001)).map((b) => [b.key, b.until - t0]))
      .toEqual([['flood:block:+47', 160_000]]);
  }));

  it('keeps only the newest limit + 1 events of a key (a spam wave does not grow it without bound)',
    withStore(async (s, t0) => {
    const th = parseThresholds('3/3600:log');
    for (let i = 0; i < 50; i++) await checkBulk(s, 'dupe', 'wave', th, t0 + i);
    expect(await topCounts(s, 'dupe', th, t0 + 60)).toEqual([{ key: 'wave', count: 4 }]);
  }));

  it('checks keys in order in one step and stops after the first block (later keys not counted)',
    withStore(async (s, t0) => {
    const flood = parseThresholds('1/60:block:60');
    const dupe = parseThresholds('5/60:log');
    const keys = [
      { kind: 'flood' as const, key: 's1', thresholds: flood }, { kind: 'dupe' as const, key: 'c1', thresholds: dupe },
    ];
    expect((await checkBulkMany(s, keys, t0)).map((v) => v.blocked)).toEqual([false, false]);
    expect((await checkBulkMany(s, keys, t0 + 1)).map((v) => [v.blocked, v.threshold])).toEqual([[true, 0]]);
    expect((await checkBulkMany(s, keys, t0 + 2)).map((v) => v.duringBlock)).toEqual([true]);
    // only the first message reached the duplicate count
    expect(await topCounts(s, 'dupe', dupe, t0 + 3)).toEqual([{ key: 'c1', count: 1 }]);
  }));

  it('lists what is counted in the first window, most first, and forgets it on release', withStore(async (s, t0) => {
    const th = parseThresholds('100/10:log');
    for (const [key, n] of [['aa', 3], ['bb', 1], ['cc', 2]] as const) {
      for (let i = 0; i < n; i++) await checkBulk(s, 'dupe', key, th, t0 + i);
    }
    expect(await topCounts(s, 'dupe', th, t0 + 5))
      .toEqual([{ key: 'aa', count: 3 }, { key: 'cc', count: 2 }, { key: 'bb', count: 1 }]);
    // 10 s later only what fell inside the window counts (by time, not only trimmed by a later hit)
    expect(await topCounts(s, 'dupe', th, t0 + 10_001)).toEqual([{ key: 'aa', count: 1 }]);
    await releaseBulk(s, 'dupe', 'aa');
    expect(await topCounts(s, 'dupe', th, t0 + 5)).toEqual([{ key: 'cc', count: 2 }, { key: 'bb', count: 1 }]);
    expect(await topCounts(s, 'dupe', [], t0 + 5)).toEqual([]);
  }));
}
