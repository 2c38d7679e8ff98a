import { describe, expect, it } from 'vitest';
import { MemoryQuotaStore } from '../src/index.js';
import { quotaStoreConformance, specAt } from './vasp-limits-conformance.js';

describe('MemoryQuotaStore', () => {
  quotaStoreConformance(() => new MemoryQuotaStore());

  const T0 = Date.UTC(2024, 4, 1, 12);
  const spec = specAt(T0, { ratePerSec: 1, burst: 1, daily: 100 });

  it('holds at most maxKeys keys (invented VASPIDs cost a bounded map), least recently used out first', async () => {
    const s = new MemoryQuotaStore({ maxKeys: 3 });
    for (const k of ['a', 'b', 'c']) await s.take(k, spec, T0);
    await s.take('a', spec, T0 + 1000);
    await s.take('d', spec, T0 + 1000);
    expect(s.size).toBe(3);
    // b was the least recently used and still held today's count: dropped, and counted as lost state
    expect(s.evicted).toBe(1);
    expect((await s.usage('', T0 + 1000)).map((u) => u.key).sort()).toEqual(['a', 'c', 'd']);
    expect((await s.take('b', spec, T0 + 1000)).usedToday).toBe(1);
    // a survived: its bucket and count are intact
    expect((await s.take('a', spec, T0 + 1000)).reason).toBe('rate');
  });

  it('drops idle keys (bucket full, day over) on its sweep without losing anything', async () => {
    const s = new MemoryQuotaStore();
    for (let i = 0; i < 50; i++) await s.take(`idle-${i}`, spec, T0);
    const later = T0 + 2 * 86_400_000;
    for (let i = 0; i < 1024; i++) await s.take('busy', specAt(later, { daily: 10_000 }), later);
    expect(s.size).toBe(1);
    expect(s.evicted).toBe(0);
    // a key past its expiry reads as fresh, as it would in Redis
    expect((await s.take('idle-0', specAt(later, { ratePerSec: 1, burst: 1, daily: 100 }), later)).usedToday).toBe(1);
  });

  it('rejects a bad spec without touching the map', async () => {
    const s = new MemoryQuotaStore();
    await expect(s.take('k', specAt(T0, { daily: -1 }), T0)).rejects.toMatchObject({ code: 'MMS_ERR_QUOTA_INVALID' });
    expect(s.size).toBe(0);
  });
});
