/**
 * What every VerdictStore must do, as tests: the memory store runs them in this package, the Redis store
 * in packages/state-redis (against a real redis-server), so a lookup answers alike on either.
 */
import { createHash } from 'node:crypto';
import { expect, it } from 'vitest';
import {
  VerdictStoreErrorCode, type VerdictPart, type VerdictRecord, type VerdictStore, type VerdictStoreLimits,
} from '../src/index.js';

export const digest = (algo: 'md5' | 'sha1' | 'sha256', s: string): string => createHash(algo).update(s).digest('hex');

export function verdictPart(index: number, content: string, over: Partial<VerdictPart> = {}): VerdictPart {
  return {
    index, content_type: 'image/jpeg', filename: `p${index}.jpg`, size: content.length,
    sha256: digest('sha256', content), findings: [], quarantined: false, ...over,
  };
}

export function verdictRecord(
  tid: string, time: number, parts: readonly VerdictPart[], action = 'forwarded',
): VerdictRecord {
  return {
    service: 'MM1', time: new Date(time).toISOString(), action, transaction_id: tid, message_id: null,
    from: '+4790000001', to: ['+4790000002'], parts,
  };
}

const HOUR = 3_600_000;

export function verdictStoreConformance(
  make: (limits?: Partial<VerdictStoreLimits>) => VerdictStore | Promise<VerdictStore>,
): void {
  const withStore = (f: (s: VerdictStore, t0: number) => Promise<void>, limits?: Partial<VerdictStoreLimits>) =>
    async (): Promise<void> => {
      const s = await make(limits);
      try {
        await f(s, Date.now());
      } finally {
        await s.close();
      }
    };
  // Each test its own ids: the Redis tests share one server.
  const id = (s: string): string => `${s}-${Math.random().toString(36).slice(2)}`;

  it('returns what was put under its transaction id, oldest first; [] for an unknown id', withStore(async (s, t0) => {
    const tid = id('tid');
    const blocked = verdictRecord(tid, t0, [verdictPart(0, 'virus', {
      findings: [{ kind: 'infected', engine: 'builtin', name: 'Eicar-Test-Signature' }], quarantined: true,
    })], 'blocked');
    const retry = verdictRecord(tid, t0 + 1000, [verdictPart(0, 'clean')]);
    await s.put(blocked, HOUR, t0);
    await s.put(retry, HOUR, t0 + 1000);
    expect(await s.get(tid, t0 + 2000)).toEqual([blocked, retry]);
    expect(await s.get(id('unknown'), t0)).toEqual([]);
    expect(await s.get('', t0)).toEqual([]);
  }));

  it('keeps two identical records (a retry in the same millisecond) as two', withStore(async (s, t0) => {
    const tid = id('twice');
    const r = verdictRecord(tid, t0, [verdictPart(0, 'a')]);
    await s.put(r, HOUR, t0);
    await s.put(r, HOUR, t0);
    expect(await s.get(tid, t0)).toHaveLength(2);
  }));

  it('forgets each record at the end of its own retention', withStore(async (s, t0) => {
    const tid = id('ret');
    await s.put(verdictRecord(tid, t0, [verdictPart(0, 'a')]), 10_000, t0);
    await s.put(verdictRecord(tid, t0 + 5000, [verdictPart(0, 'b')]), 10_000, t0 + 5000);
    expect(await s.get(tid, t0 + 9999)).toHaveLength(2);
    expect((await s.get(tid, t0 + 10_000)).map((r) => r.parts[0]?.sha256)).toEqual([digest('sha256', 'b')]);
    expect(await s.get(tid, t0 + 15_000)).toEqual([]);
  }));

  it('keeps the newest maxPerTransaction records of one id (a handset reusing its id)', withStore(async (s, t0) => {
    const tid = id('reuse');
    for (let i = 0; i < 10; i++) await s.put(verdictRecord(tid, t0 + i, [verdictPart(0, `m${i}`)]), HOUR, t0 + i);
    const got = await s.get(tid, t0 + 100);
    expect(got.map((r) => r.parts[0]?.sha256)).toEqual([7, 8, 9].map((i) => digest('sha256', `m${i}`)));
  }, { maxPerTransaction: 3 }));

  it('finds delivered parts by SHA-256, and by MD5/SHA-1 only when they were given', withStore(async (s, t0) => {
    const tid = id('fwd');
    const content = `delivered ${tid}`;
    const rec = { ...verdictRecord(tid, t0, [verdictPart(0, 'text'), verdictPart(1, content)]), message_id: 'mid-1' };
    await s.put(rec, HOUR, t0, [{ index: 0 }, { index: 1, md5: digest('md5', content) }]);
    const want = {
      transactionId: tid, messageId: 'mid-1', service: 'MM1', time: new Date(t0).toISOString(),
      sha256: digest('sha256', content), size: content.length,
    };
    expect(await s.findDelivered([{ algo: 'sha256', hash: digest('sha256', content) }], t0 + 1)).toEqual([
      { algo: 'sha256', hash: digest('sha256', content), ...want },
    ]);
    expect(await s.findDelivered([{ algo: 'md5', hash: digest('md5', content) }], t0 + 1)).toEqual([
      { algo: 'md5', hash: digest('md5', content), ...want },
    ]);
    expect(await s.findDelivered([{ algo: 'sha1', hash: digest('sha1', content) }], t0 + 1)).toEqual([]);
    expect(await s.findDelivered([], t0)).toEqual([]);
  }));

  it('indexes only the parts said to be delivered (a blocked message, a removed part)', withStore(async (s, t0) => {
    const tid = id('blk');
    const removed = `removed ${tid}`;
    const kept = `kept ${tid}`;
    await s.put(verdictRecord(tid, t0, [verdictPart(0, `blocked ${tid}`)], 'blocked'), HOUR, t0);
    const rewritten = verdictRecord(tid, t0, [verdictPart(0, removed), verdictPart(1, kept)], 'attachment-removed');
    await s.put(rewritten, HOUR, t0, [{ index: 1 }]);
    const refs = [`blocked ${tid}`, removed, kept].map((c) => ({ algo: 'sha256' as const, hash: digest('sha256', c) }));
    expect((await s.findDelivered(refs, t0 + 1)).map((d) => d.sha256)).toEqual([digest('sha256', kept)]);
  }));

  it('forgets deliveries with their retention and keeps the newest maxDeliveriesPerDigest', withStore(async (s, t0) => {
    const content = id('wave');
    for (let i = 0; i < 6; i++) {
      await s.put(verdictRecord(id(`w${i}`), t0 + i, [verdictPart(0, content)]), 10_000, t0 + i, [{ index: 0 }]);
    }
    const ref = [{ algo: 'sha256' as const, hash: digest('sha256', content) }];
    const newest = [3, 4, 5].map((i) => new Date(t0 + i).toISOString());
    expect((await s.findDelivered(ref, t0 + 10)).map((d) => d.time)).toEqual(newest);
    expect(await s.findDelivered(ref, t0 + 10_005)).toEqual([]);
  }, { maxDeliveriesPerDigest: 3 }));

  it('refuses what it cannot keep, with stable codes', withStore(async (s, t0) => {
    const ok = verdictRecord(id('ok'), t0, [verdictPart(0, 'a')]);
    const bad: [VerdictRecord, number, { index: number; md5?: string }[]][] = [
      [ok, 0, []],
      [ok, 1.5, []],
      [{ ...ok, transaction_id: '' }, HOUR, []],
      [{ ...ok, transaction_id: 'x'.repeat(257) }, HOUR, []],
      [{ ...ok, time: 'yesterday' }, HOUR, []],
      [{ ...ok, parts: [{ ...verdictPart(0, 'a'), sha256: '../../x' }] }, HOUR, []],
      [ok, HOUR, [{ index: 7 }]],
      [ok, HOUR, [{ index: 0, md5: 'ABC' }]],
    ];
    const INVALID = { code: VerdictStoreErrorCode.INVALID };
    for (const [r, ret, d] of bad) await expect(s.put(r, ret, t0, d)).rejects.toMatchObject(INVALID);
    const huge = { ...ok, to: Array.from({ length: 5000 }, (_, i) => `+47${String(i).padStart(8, '0')}`) };
    await expect(s.put(huge, HOUR, t0)).rejects.toMatchObject({ code: VerdictStoreErrorCode.TOO_LARGE });
    await expect(s.findDelivered([{ algo: 'sha256', hash: 'zz' }], t0)).rejects.toMatchObject(INVALID);
    expect(await s.get(ok.transaction_id, t0)).toEqual([]);
  }));

  it('returns copies: changing an answer does not change the store', withStore(async (s, t0) => {
    const tid = id('copy');
    await s.put(verdictRecord(tid, t0, [verdictPart(0, 'a')]), HOUR, t0);
    const [r] = await s.get(tid, t0);
    (r as { action: string }).action = 'tampered';
    expect((await s.get(tid, t0))[0]?.action).toBe('forwarded');
  }));
}
