import { Redis } from 'ioredis';
import { describe, expect, inject, it } from 'vitest';
import { VerdictStoreErrorCode } from '@mmsguard/policy';
import {
  digest, verdictPart, verdictRecord, verdictStoreConformance,
} from '../../policy/test/verdict-store-conformance.js';
import { RedisVerdictStore } from '../src/index.js';
import './redis-setup.js';

const url = inject('redisUrl');

describe.skipIf(url === null)('RedisVerdictStore (real redis-server)', () => {
  let n = 0;
  // the same tests as the memory store, each on its own key prefix
  verdictStoreConformance((limits) => {
    const prefix = `vconf-${Date.now()}-${++n}:`;
    return new RedisVerdictStore(url!, { ...limits, prefix });
  });

  it('is shared: what one instance puts, another reads (lookup and retro-hunt index)', async () => {
    const prefix = `vshare-${Date.now()}:`;
    const a = new RedisVerdictStore(url!, { prefix });
    const b = new RedisVerdictStore(url!, { prefix });
    await Promise.all([a.ready(), b.ready()]);
    const t0 = Date.now();
    const rec = verdictRecord('shared-tid', t0, [verdictPart(0, 'shared content')]);
    await a.put(rec, 60_000, t0, [{ index: 0 }]);
    await b.put({ ...rec, action: 'blocked', time: new Date(t0 + 1).toISOString() }, 60_000, t0 + 1);
    expect((await b.get('shared-tid', t0 + 2)).map((r) => r.action)).toEqual(['forwarded', 'blocked']);
    expect((await a.get('shared-tid', t0 + 2)).map((r) => r.action)).toEqual(['forwarded', 'blocked']);
    const hits = await b.findDelivered([{ algo: 'sha256', hash: digest('sha256', 'shared content') }], t0 + 2);
    expect(hits.map((h) => h.transactionId)).toEqual(['shared-tid']);
    await Promise.all([a.close(), b.close()]);
  });

  it('lets Redis expire the keys with the retention (nothing left behind in Redis)', async () => {
    const prefix = `vttl-${Date.now()}:`;
    const s = new RedisVerdictStore(url!, { prefix });
    const raw = new Redis(url!);
    try {
      const t0 = Date.now();
      const rec = verdictRecord('ttl-tid', t0, [verdictPart(0, 'ttl content')]);
      await s.put(rec, 300, t0, [{ index: 0, sha1: digest('sha1', 'ttl content') }]);
      const keys = [`${prefix}verdict:ttl-tid`, `${prefix}verdict-digest:sha256:${digest('sha256', 'ttl content')}`,
        `${prefix}verdict-digest:sha1:${digest('sha1', 'ttl content')}`];
      expect(await raw.exists(...keys)).toBe(3);
      for (const k of keys) expect(await raw.pttl(k)).toBeGreaterThan(0);
      expect(await s.get('ttl-tid', Date.now())).toHaveLength(1);
      await new Promise((r) => setTimeout(r, 450));
      expect(await raw.exists(...keys)).toBe(0);
      expect(await s.get('ttl-tid', Date.now())).toEqual([]);
    } finally {
      raw.disconnect();
      await s.close();
    }
  });

  it('keeps a key alive as long as its newest record, not its first', async () => {
    const prefix = `vlive-${Date.now()}:`;
    const s = new RedisVerdictStore(url!, { prefix });
    const raw = new Redis(url!);
    try {
      const t0 = Date.now();
      await s.put(verdictRecord('k', t0, [verdictPart(0, 'a')]), 60_000, t0);
      await s.put(verdictRecord('k', t0, [verdictPart(0, 'b')]), 1000, t0);
      expect(await raw.pttl(`${prefix}verdict:k`)).toBeGreaterThan(50_000);
    } finally {
      raw.disconnect();
      await s.close();
    }
  });

  it('fails fast with MMS_ERR_VERDICT_UNAVAILABLE when Redis is unreachable (the caller counts it)', async () => {
    const s = new RedisVerdictStore('redis://127.0.0.1:1');
    const t0 = Date.now();
    const UNAVAILABLE = { code: VerdictStoreErrorCode.UNAVAILABLE };
    await expect(s.put(verdictRecord('x', t0, []), 1000, t0)).rejects.toMatchObject(UNAVAILABLE);
    await expect(s.get('x', t0)).rejects.toMatchObject(UNAVAILABLE);
    await expect(s.findDelivered([{ algo: 'md5', hash: digest('md5', 'x') }], t0)).rejects.toMatchObject(UNAVAILABLE);
    expect(Date.now() - t0).toBeLessThan(10_000);
    await s.close();
  });

  it('looks up a signature update of thousands of digests in batches', async () => {
    const s = new RedisVerdictStore(url!, { prefix: `vbatch-${Date.now()}:` });
    const t0 = Date.now();
    await s.put(verdictRecord('b', t0, [verdictPart(0, 'needle')]), 60_000, t0, [{ index: 0 }]);
    const hay = (i: number) => ({ algo: 'sha256' as const, hash: digest('sha256', `hay${i}`) });
    const refs = Array.from({ length: 2500 }, (_, i) => hay(i));
    refs.splice(1700, 0, { algo: 'sha256', hash: digest('sha256', 'needle') });
    expect((await s.findDelivered(refs, t0 + 1)).map((d) => d.transactionId)).toEqual(['b']);
    await s.close();
  });
});
