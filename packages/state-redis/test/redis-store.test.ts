import { describe, expect, inject, it } from 'vitest';
import { checkBulk, parseThresholds } from '@mmsguard/policy';
import { storeConformance } from '../../policy/test/store-conformance.js';
import { RedisStore } from '../src/index.js';
import './redis-setup.js';

const url = inject('redisUrl');

describe.skipIf(url === null)('RedisStore (real redis-server)', () => {
  let n = 0;
  // the same tests as the memory store, each on its own key prefix
  storeConformance(() => new RedisStore(url!, `conf-${Date.now()}-${++n}:`));

  it('holds a limit exactly across two clients (two proxy instances) hitting concurrently', async () => {
    const prefix = `t1-${Date.now()}:`;
    const a = new RedisStore(url!, prefix);
    const b = new RedisStore(url!, prefix);
    await Promise.all([a.ready(), b.ready()]);
    const th = parseThresholds('10/60:block:300');
    const now = Date.now();
    const verdicts = await Promise.all(
      Array.from({ length: 20 }, (_, i) => checkBulk(i % 2 === 0 ? a : b, 'flood', 'sender', th, now + i)),
    );
    // Exactly 10 pass, whichever instance saw them and in whatever order they landed.
    expect(verdicts.filter((v) => !v.blocked)).toHaveLength(10);
    expect((await a.listBlocks('flood:block:', now + 100)).map((x) => x.key)).toEqual(['flood:block:sender']);
    expect(await b.release('flood:block:sender')).toBe(true);
    await Promise.all([a.close(), b.close()]);
  });

  it('fails fast when Redis is unreachable (the caller applies fail-open/closed)', async () => {
    const s = new RedisStore('redis://127.0.0.1:1');
    const t0 = Date.now();
    await expect(s.hit('k', 1000, Date.now())).rejects.toBeDefined();
    expect(Date.now() - t0).toBeLessThan(5000);
    await s.close();
  });
});
