import { describe, expect, inject, it } from 'vitest';
import { checkBulk, checkBulkMany, parseThresholds, releaseBulk, topCounts } from '@mmsguard/policy';
import { RedisStore } from '../src/index.js';
import './redis-setup.js';

const url = inject('redisUrl');

describe.skipIf(url === null)('RedisStore (real redis-server)', () => {
  it('holds a limit exactly across two clients (two proxy instances) hitting concurrently', async () => {
    const prefix = `t1-${Date.now()}:`;
    const a = new RedisStore(url!, prefix);
    const b = new RedisStore(url!, prefix);
    await Promise.all([a.ready(), b.ready()]);
    const th = parseThresholds('10/60:block:300');
    const now = Date.now();
    const verdicts = await Promise.all(Array.from({ length: 20 }, (_, i) => checkBulk(i % 2 === 0 ? a : b, 'flood', 'sender', th, now + i)));
    // Exactly 10 pass, whichever instance saw them and in whatever order they landed.
    expect(verdicts.filter((v) => !v.blocked)).toHaveLength(10);
    expect((await a.listBlocks('flood:block:', now + 100)).map((x) => x.key)).toEqual(['flood:block:sender']);
    expect(await b.release('flood:block:sender')).toBe(true);
    await Promise.all([a.close(), b.close()]);
  });

  it('decides like the memory store in one round trip: log past the first limit, block past the second, restart the block on every attempt', async () => {
    const s = new RedisStore(url!, `t3-${Date.now()}:`);
    const th = parseThresholds('3/10:log;5/10:block+alert:60');
    const t0 = Date.now();
    const seen = [];
    for (let i = 0; i < 6; i++) seen.push(await checkBulk(s, 'flood', '+47', th, t0 + i));
    expect(seen.map((v) => [v.threshold, v.blocked, v.count])).toEqual([[-1, false, 0], [-1, false, 0], [-1, false, 0], [0, false, 4], [0, false, 4], [1, true, 6]]);
    expect([...seen[5]!.actions].sort()).toEqual(['alert', 'block']);
    expect((await checkBulk(s, 'flood', '+48', th, t0 + 10)).blocked).toBe(false);
    // block until t0+5+60,000; an attempt at +50,000 restarts it to +110,000
    expect((await checkBulk(s, 'flood', '+47', th, t0 + 50_000)).duringBlock).toBe(true);
    expect((await checkBulk(s, 'flood', '+47', th, t0 + 100_000)).duringBlock).toBe(true);
    expect((await s.listBlocks('flood:block:', t0 + 100_001)).map((b) => [b.key, b.until - t0])).toEqual([['flood:block:+47', 160_000]]);
    await s.close();
  });

  it('keeps only the newest limit + 1 events of a key (a spam wave does not grow it without bound)', async () => {
    const s = new RedisStore(url!, `t4-${Date.now()}:`);
    const th = parseThresholds('3/3600:log');
    const t0 = Date.now();
    for (let i = 0; i < 50; i++) await checkBulk(s, 'dupe', 'wave', th, t0 + i);
    expect(await topCounts(s, 'dupe', th, t0 + 60)).toEqual([{ key: 'wave', count: 4 }]);
    await s.close();
  });

  it('checks keys in order in one step and stops after the first block (later keys not counted)', async () => {
    const STORE = new RedisStore(url!, `t5-${Date.now()}:`);
    const T0 = Date.now();
    const flood = parseThresholds('1/60:block:60');
    const dupe = parseThresholds('5/60:log');
    const keys = [{ kind: 'flood' as const, key: 's1', thresholds: flood }, { kind: 'dupe' as const, key: 'c1', thresholds: dupe }];
    const first = await checkBulkMany(STORE, keys, T0);
    expect(first.map((v) => v.blocked)).toEqual([false, false]);
    const second = await checkBulkMany(STORE, keys, T0 + 1);
    expect(second.map((v) => [v.blocked, v.threshold])).toEqual([[true, 0]]);
    const third = await checkBulkMany(STORE, keys, T0 + 2);
    expect(third.map((v) => v.duringBlock)).toEqual([true]);
    // only the first message reached the duplicate count
    expect(await topCounts(STORE, 'dupe', dupe, T0 + 3)).toEqual([{ key: 'c1', count: 1 }]);
    await STORE.close();
  });

  it('lists what is counted in the window, most first, and forgets it on release', async () => {
    const s = new RedisStore(url!, `t2-${Date.now()}:`);
    const th = parseThresholds('100/10:log');
    for (const [key, n] of [['aa', 3], ['bb', 1], ['cc', 2]] as const) for (let i = 0; i < n; i++) await checkBulk(s, 'dupe', key, th, 1000 + i);
    expect(await topCounts(s, 'dupe', th, 1005)).toEqual([{ key: 'aa', count: 3 }, { key: 'cc', count: 2 }, { key: 'bb', count: 1 }]);
    // 10 s later only what fell inside the window counts (trimmed by score, not by a later hit)
    expect(await topCounts(s, 'dupe', th, 11_001)).toEqual([{ key: 'aa', count: 1 }]);
    await releaseBulk(s, 'dupe', 'aa');
    expect(await topCounts(s, 'dupe', th, 1005)).toEqual([{ key: 'cc', count: 2 }, { key: 'bb', count: 1 }]);
    await s.close();
  });

  it('fails fast when Redis is unreachable (the caller applies fail-open/closed)', async () => {
    const s = new RedisStore('redis://127.0.0.1:1');
    const t0 = Date.now();
    await expect(s.hit('k', 1000, Date.now())).rejects.toBeDefined();
    expect(Date.now() - t0).toBeLessThan(5000);
    await s.close();
  });
});
