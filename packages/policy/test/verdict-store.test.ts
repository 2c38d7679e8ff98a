import { describe, expect, it } from 'vitest';
import { MemoryVerdictStore, VerdictStoreErrorCode } from '../src/index.js';
import { digest, verdictPart, verdictRecord, verdictStoreConformance } from './verdict-store-conformance.js';

const HOUR = 3_600_000;

describe('MemoryVerdictStore', () => {
  verdictStoreConformance((limits) => new MemoryVerdictStore(limits));

  it('evicts the oldest records past maxBytes (a message flood costs old lookups, not the heap)', async () => {
    const s = new MemoryVerdictStore({ maxBytes: 20_000 });
    const t0 = Date.now();
    for (let i = 0; i < 200; i++) await s.put(verdictRecord(`t${i}`, t0 + i, [verdictPart(0, `m${i}`)]), HOUR, t0 + i);
    expect(s.bytes).toBeLessThanOrEqual(20_000);
    expect(await s.get('t0', t0 + 300)).toEqual([]);
    expect(await s.get('t199', t0 + 300)).toHaveLength(1);
    const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => s.get(`t${i}`, t0 + 300)));
    const kept = answers.map((r) => r.length);
    // What is kept is a suffix: the newest, contiguous.
    const first = kept.indexOf(1);
    expect(first).toBeGreaterThan(0);
    expect(kept.slice(first).every((n) => n === 1)).toBe(true);
  });

  it('evicts the oldest deliveries past maxDeliveries', async () => {
    const s = new MemoryVerdictStore({ maxDeliveries: 10 });
    const t0 = Date.now();
    for (let i = 0; i < 30; i++) {
      await s.put(verdictRecord(`t${i}`, t0, [verdictPart(0, `c${i}`)]), HOUR, t0, [{ index: 0 }]);
    }
    const refs = Array.from({ length: 30 }, (_, i) => ({ algo: 'sha256' as const, hash: digest('sha256', `c${i}`) }));
    const newest = Array.from({ length: 10 }, (_, i) => `t${i + 20}`);
    expect((await s.findDelivered(refs, t0)).map((d) => d.transactionId)).toEqual(newest);
  });

  it('frees what expired even for ids never asked for again', async () => {
    const s = new MemoryVerdictStore();
    const t0 = Date.now();
    for (let i = 0; i < 100; i++) await s.put(verdictRecord(`old${i}`, t0, [verdictPart(0, 'x')]), 1000, t0);
    const before = s.bytes;
    await s.put(verdictRecord('new', t0 + 5000, [verdictPart(0, 'x')]), 1000, t0 + 5000);
    expect(s.bytes).toBeLessThan(before / 50);
  });

  it('holds only the newest maxPerTransaction of an id written again and again', async () => {
    const s = new MemoryVerdictStore({ maxPerTransaction: 2 });
    const t0 = Date.now();
    const one = verdictRecord('same', t0, [verdictPart(0, 'x')]);
    for (let i = 0; i < 5000; i++) await s.put(one, HOUR, t0 + i);
    expect(await s.get('same', t0 + 5000)).toHaveLength(2);
    expect(s.bytes).toBe(2 * JSON.stringify(one).length);
  });

  // The accounting above (bytes) was right while the eviction FIFO kept every record ever written reachable: the
  // heap grew ~1.6 KB per message without bound. What the store references must follow what it holds.
  describe('references no more than it holds (eviction slots are freed)', () => {
    const BOUND = 2 * 1024 + 64;

    it('one id written again and again, with one digest delivered each time', async () => {
      const s = new MemoryVerdictStore({ maxPerTransaction: 16, maxDeliveriesPerDigest: 64 });
      const t0 = Date.now();
      const one = verdictRecord('same', t0, [verdictPart(0, 'x')]);
      for (let i = 0; i < 20_000; i++) await s.put(one, HOUR, t0 + i, [{ index: 0 }]);
      expect(s.slots.records).toBeLessThanOrEqual(BOUND);
      expect(s.slots.deliveries).toBeLessThanOrEqual(BOUND);
      expect(await s.get('same', t0 + 20_000)).toHaveLength(16);
      const found = await s.findDelivered([{ algo: 'sha256', hash: digest('sha256', 'x') }], t0 + 20_000);
      expect(found).toHaveLength(64);
    });

    it('new ids evicted by maxBytes and maxDeliveries', async () => {
      const s = new MemoryVerdictStore({ maxBytes: 50_000, maxDeliveries: 100 });
      const t0 = Date.now();
      for (let i = 0; i < 20_000; i++) {
        await s.put(verdictRecord(`t${i}`, t0, [verdictPart(0, `c${i}`)]), HOUR, t0 + i, [{ index: 0 }]);
      }
      expect(s.slots.records).toBeLessThanOrEqual(BOUND);
      expect(s.slots.deliveries).toBeLessThanOrEqual(BOUND);
      expect(await s.get('t19999', t0 + 20_000)).toHaveLength(1);
      expect(await s.get('t0', t0 + 20_000)).toEqual([]);
    });

    it('ids that expire', async () => {
      const s = new MemoryVerdictStore();
      const t0 = Date.now();
      for (let i = 0; i < 20_000; i++) await s.put(verdictRecord(`t${i}`, t0, [verdictPart(0, 'x')]), 10, t0 + i * 20);
      expect(s.slots.records).toBeLessThanOrEqual(BOUND);
      expect(s.bytes).toBe(JSON.stringify(verdictRecord('t19999', t0, [verdictPart(0, 'x')])).length);
    });
  });

  it('refuses limits out of range', () => {
    const INVALID = expect.objectContaining({ code: VerdictStoreErrorCode.INVALID }) as Error;
    expect(() => new MemoryVerdictStore({ maxPerTransaction: 0 })).toThrow(INVALID);
    expect(() => new MemoryVerdictStore({ maxBytes: -1 })).toThrow(INVALID);
  });
});
