import { Redis } from 'ioredis';
import { describe, expect, inject, it } from 'vitest';
import { DAY_GRACE_MS, QuotaStoreErrorCode, utcDay } from '@mmsguard/policy';
import { quotaStoreConformance, specAt } from '../../policy/test/vasp-limits-conformance.js';
import { RedisQuotaStore } from '../src/index.js';
import './redis-setup.js';

const url = inject('redisUrl');

describe.skipIf(url === null)('RedisQuotaStore (real redis-server)', () => {
  let n = 0;
  // the same tests as the memory store, each store on its own key prefix
  quotaStoreConformance(() => new RedisQuotaStore(url!, { prefix: `qconf-${Date.now()}-${++n}:` }), { runs: 60 });

  it('shares one bucket exactly between two instances taking at once (no token taken twice)', async () => {
    const prefix = `qshare-${Date.now()}:`;
    const a = new RedisQuotaStore(url!, { prefix });
    const b = new RedisQuotaStore(url!, { prefix });
    await Promise.all([a.ready(), b.ready()]);
    const t0 = Date.UTC(2024, 4, 1, 12);
    const spec = specAt(t0, { ratePerSec: 1, burst: 20, daily: 30 });
    const key = 'vasp-quota:id:v';
    const rs = await Promise.all(Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? a : b).take(key, spec, t0)));
    const allowed = rs.filter((r) => r.allowed);
    expect(allowed).toHaveLength(20);
    expect(allowed.map((r) => r.usedToday).sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    // what one instance took, the other sees: 10 s later 10 tokens, and the daily count is shared
    expect((await a.usage('vasp-quota:', t0 + 10_000))).toEqual([
      { key: 'vasp-quota:id:v', tokens: 10, usedToday: 20, dayKey: '2024-05-01' },
    ]);
    const later = [];
    for (let i = 0; i < 12; i++) later.push((await (i % 2 === 0 ? b : a).take(key, spec, t0 + 10_000)).reason);
    expect(later).toEqual([...Array<null>(10).fill(null), 'daily', 'daily']);
    await Promise.all([a.close(), b.close()]);
  });

  it('lets Redis drop a bucket once it holds nothing a fresh one would not (day over, bucket full)', async () => {
    const prefix = `qttl-${Date.now()}:`;
    const s = new RedisQuotaStore(url!, { prefix });
    const raw = new Redis(url!);
    try {
      const now = Date.now();
      const dayEnd = utcDay(now).endsAt;
      await s.take('vasp-quota:id:d', specAt(now, { daily: 5 }), now);
      const ttl = await raw.pttl(`${prefix}vasp-quota:id:d`);
      expect(Math.abs(ttl - (dayEnd + DAY_GRACE_MS - now))).toBeLessThan(2000);
      // 1 per hour with a burst of 48: after one take the bucket is full again only an hour later,
      // which may be past the day's end; the key lives until the later of the two
      await s.take('vasp-quota:id:h', specAt(now, { ratePerSec: 1 / 3600, burst: 48 }), now);
      const want = Math.max(3_600_000, dayEnd + DAY_GRACE_MS - now);
      expect(Math.abs((await raw.pttl(`${prefix}vasp-quota:id:h`)) - want)).toBeLessThan(2000);
    } finally {
      raw.disconnect();
      await s.close();
    }
  });

  it('lists usage by a literal prefix (glob characters in a VASPID match only themselves)', async () => {
    const s = new RedisQuotaStore(url!, { prefix: `qglob-${Date.now()}:` });
    const t0 = Date.UTC(2024, 4, 1, 12);
    for (const v of ['a*', 'a*b', 'ab', 'a?', 'a[x]']) await s.take(`vasp-quota:id:${v}`, specAt(t0, { daily: 9 }), t0);
    const keys = async (prefix: string): Promise<string[]> => (await s.usage(prefix, t0)).map((u) => u.key).sort();
    expect(await keys('vasp-quota:id:a*')).toEqual(['vasp-quota:id:a*', 'vasp-quota:id:a*b']);
    expect(await keys('vasp-quota:id:a[')).toEqual(['vasp-quota:id:a[x]']);
    await s.close();
  });

  it('fails fast with MMS_ERR_QUOTA_UNAVAILABLE when Redis is unreachable (caller: fail-open/closed)', async () => {
    const s = new RedisQuotaStore('redis://127.0.0.1:1');
    const t0 = Date.now();
    await expect(s.take('vasp-quota:id:v', specAt(t0, { daily: 1 }), t0)).rejects.toMatchObject({
      name: 'QuotaStoreError', code: QuotaStoreErrorCode.UNAVAILABLE,
    });
    await expect(s.usage('vasp-quota:', t0)).rejects.toMatchObject({ code: QuotaStoreErrorCode.UNAVAILABLE });
    expect(Date.now() - t0).toBeLessThan(10_000);
    await s.close();
  });
});
