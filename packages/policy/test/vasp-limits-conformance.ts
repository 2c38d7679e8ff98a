/**
 * What every QuotaStore must do, as tests: the memory store runs them in vasp-limits-store.test.ts, the
 * Redis store in packages/state-redis (against a real redis-server), so both decide alike. Times are
 * passed in (fake clocks), never slept; keys are fresh per test.
 */
import fc from 'fast-check';
import { expect, it } from 'vitest';
import {
  QuotaStoreErrorCode, takeToken, utcDay, type BucketState, type QuotaResult, type QuotaSpec, type QuotaStore,
} from '../src/index.js';

/** A spec on `now`'s UTC day; no rate and no daily quota unless given. */
export function specAt(now: number, o: Partial<QuotaSpec> = {}): QuotaSpec {
  const d = utcDay(now);
  return { ratePerSec: null, burst: 0, daily: null, dayKey: d.key, dayEndsAt: d.endsAt, ...o };
}

const brief = (r: QuotaResult): [boolean, QuotaResult['reason'], number | null, number, number] => [
  r.allowed, r.reason, r.tokens, r.usedToday, r.retryAfterMs,
];

export function quotaStoreConformance(
  make: () => QuotaStore | Promise<QuotaStore>, opts: { runs?: number } = {},
): void {
  const T0 = Date.UTC(2024, 4, 1, 12);
  const MIDNIGHT = Date.UTC(2024, 4, 2);
  let n = 0;
  const withStore = (f: (s: QuotaStore, key: string) => Promise<void>) => async (): Promise<void> => {
    const s = await make();
    try {
      await f(s, `vasp-quota:id:conf-${++n}`);
    } finally {
      await s.close();
    }
  };

  it('lets a burst through at once, then one message per token as the rate refills it', withStore(async (s, k) => {
    const spec = specAt(T0, { ratePerSec: 10, burst: 3 });
    const first = [];
    for (let i = 0; i < 4; i++) first.push(brief(await s.take(k, spec, T0)));
    expect(first).toEqual([
      [true, null, 2, 1, 0], [true, null, 1, 2, 0], [true, null, 0, 3, 0], [false, 'rate', 0, 3, 100],
    ]);
    // 10/s: a token every 100 ms, to the millisecond
    expect(brief(await s.take(k, spec, T0 + 99))).toEqual([false, 'rate', 0.99, 3, 1]);
    expect(brief(await s.take(k, spec, T0 + 100))).toEqual([true, null, 0, 4, 0]);
    // refills up to the burst, not beyond
    expect(brief(await s.take(k, spec, T0 + 60_000))).toEqual([true, null, 2, 5, 0]);
  }));

  it('spends neither a token nor the daily quota on a refused message', withStore(async (s, k) => {
    const spec = specAt(T0, { ratePerSec: 1, burst: 1, daily: 2 });
    expect((await s.take(k, spec, T0)).allowed).toBe(true);
    for (let i = 1; i <= 20; i++) {
      expect(brief(await s.take(k, spec, T0 + i))).toEqual([false, 'rate', i / 1000, 1, 1000 - i]);
    }
    // had a refused take cost a token, this one would be refused too
    expect(brief(await s.take(k, spec, T0 + 1000))).toEqual([true, null, 0, 2, 0]);
    // over the daily quota: refused as daily even with a token in the bucket, and the token stays
    const endOfDay = MIDNIGHT - (T0 + 5000);
    expect(brief(await s.take(k, spec, T0 + 5000))).toEqual([false, 'daily', 1, 2, endOfDay]);
    expect(brief(await s.take(k, spec, T0 + 5000))).toEqual([false, 'daily', 1, 2, endOfDay]);
  }));

  it('counts the daily quota per UTC day and starts again at 00:00 UTC', withStore(async (s, k) => {
    const late = MIDNIGHT - 1000;
    const daily = { daily: 2 };
    expect(brief(await s.take(k, specAt(late, daily), late))).toEqual([true, null, null, 1, 0]);
    expect(brief(await s.take(k, specAt(late, daily), late + 1))).toEqual([true, null, null, 2, 0]);
    expect(brief(await s.take(k, specAt(late, daily), late + 2))).toEqual([false, 'daily', null, 2, 998]);
    expect(brief(await s.take(k, specAt(MIDNIGHT, daily), MIDNIGHT))).toEqual([true, null, null, 1, 0]);
  }));

  it('keeps a bucket per key', withStore(async (s, k) => {
    const spec = specAt(T0, { ratePerSec: 1, burst: 1 });
    expect((await s.take(k, spec, T0)).allowed).toBe(true);
    expect((await s.take(`${k}-other`, spec, T0)).allowed).toBe(true);
    expect((await s.take(k, spec, T0)).allowed).toBe(false);
  }));

  it('never moves time or the day back for a take stamped earlier (a slower clock)', withStore(async (s, k) => {
    const spec = specAt(T0, { ratePerSec: 1, burst: 1 });
    expect((await s.take(k, spec, T0)).allowed).toBe(true);
    // no refill from the past; the token is due at T0 + 1000, 6000 ms away on the slow clock
    expect(brief(await s.take(k, spec, T0 - 5000))).toEqual([false, 'rate', 0, 1, 6000]);
    expect((await s.take(k, spec, T0 + 1000)).allowed).toBe(true);
    const d = `${k}-day`;
    const daily = { daily: 10 };
    expect((await s.take(d, specAt(MIDNIGHT - 500, daily), MIDNIGHT - 500)).usedToday).toBe(1);
    expect((await s.take(d, specAt(MIDNIGHT + 100, daily), MIDNIGHT + 100)).usedToday).toBe(1);
    // a clock 200 ms slow still thinks it is yesterday: it counts against today, it does not reopen yesterday
    expect((await s.take(d, specAt(MIDNIGHT - 100, daily), MIDNIGHT - 100)).usedToday).toBe(2);
    expect((await s.take(d, specAt(MIDNIGHT + 200, daily), MIDNIGHT + 200)).usedToday).toBe(3);
  }));

  it('applies a reloaded rule to the bucket it finds (a smaller burst caps the tokens)', withStore(async (s, k) => {
    expect((await s.take(k, specAt(T0, { ratePerSec: 1, burst: 10 }), T0)).tokens).toBe(9);
    expect(brief(await s.take(k, specAt(T0, { ratePerSec: 1, burst: 2 }), T0))).toEqual([true, null, 1, 2, 0]);
    expect(brief(await s.take(k, specAt(T0, { daily: 5 }), T0))).toEqual([true, null, null, 3, 0]);
    // the time since the last take refills at that take's rule (1/s); full under it is full under the new one
    const r = `${k}-reload`;
    expect((await s.take(r, specAt(T0, { ratePerSec: 1, burst: 1 }), T0)).tokens).toBe(0);
    const slow = specAt(T0, { ratePerSec: 1 / 3600, burst: 5 });
    expect(brief(await s.take(r, slow, T0 + 500))).toEqual([false, 'rate', 0.5, 1, 1_800_000]);
    expect(brief(await s.take(r, slow, T0 + 1000))).toEqual([false, 'rate', 1_800_500 / 3_600_000, 1, 1_799_500]);
    const f = `${k}-full`;
    await s.take(f, specAt(T0, { ratePerSec: 1, burst: 1 }), T0);
    expect(brief(await s.take(f, slow, T0 + 1000))).toEqual([true, null, 4, 2, 0]);
  }));

  it('takes exactly the tokens there are when takes land at once', withStore(async (s, k) => {
    const spec = specAt(T0, { ratePerSec: 1, burst: 10 });
    const rs = await Promise.all(Array.from({ length: 25 }, () => s.take(k, spec, T0)));
    expect(rs.filter((r) => r.allowed)).toHaveLength(10);
    const counts = rs.filter((r) => r.allowed).map((r) => r.usedToday).sort((a, b) => a - b);
    expect(counts).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  }));

  it('promises a token exactly when it is there, whatever the rate', withStore(async (s, k) => {
    let run = 0;
    await fc.assert(fc.asyncProperty(
      fc.integer({ min: 1, max: 500 }), fc.constantFrom(1, 60, 3600), fc.integer({ min: 1, max: 4 }),
      async (count, per, burst) => {
        const key = `${k}-${++run}`;
        const spec = specAt(T0, { ratePerSec: count / per, burst });
        for (let i = 0; i < burst; i++) expect((await s.take(key, spec, T0)).allowed).toBe(true);
        const r = await s.take(key, spec, T0);
        expect(r.reason).toBe('rate');
        expect((await s.take(key, spec, T0 + r.retryAfterMs - 1)).allowed).toBe(false);
        expect((await s.take(key, spec, T0 + r.retryAfterMs)).allowed).toBe(true);
      },
    ), { numRuns: opts.runs ?? 100 });
  }));

  it('answers every sequence of takes as takeToken does (same arithmetic in every store)', withStore(async (s, k) => {
    let run = 0;
    const step = fc.record({
      dt: fc.oneof(fc.integer({ min: -2000, max: 3000 }), fc.integer({ min: 3_000_000, max: 90_000_000 })),
      ratePerSec: fc.constantFrom(null, 1 / 3600, 7 / 60, 1, 10, 1000),
      burst: fc.integer({ min: 1, max: 5 }),
      daily: fc.constantFrom(null, 1, 3, 5),
    });
    await fc.assert(fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 40 }), async (steps) => {
      const key = `${k}-${++run}`;
      let now = MIDNIGHT - 10_000;
      let model: BucketState | null = null;
      for (const { dt, ...o } of steps) {
        now += dt;
        const spec = specAt(now, { ...o, burst: o.ratePerSec === null ? 0 : o.burst });
        const want = takeToken(model, spec, now);
        model = want.state;
        expect(await s.take(key, spec, now)).toEqual(want.result);
      }
    }), { numRuns: opts.runs ?? 100 });
  }));

  it('lists usage under a prefix: tokens refilled to now, no count once the day is over', withStore(async (s, k) => {
    for (let i = 0; i < 3; i++) await s.take(`${k}:A`, specAt(T0, { ratePerSec: 1, burst: 5 }), T0);
    for (let i = 0; i < 2; i++) await s.take(`${k}:B`, specAt(T0, { daily: 9 }), T0);
    await s.take(`not-${k}`, specAt(T0, { daily: 9 }), T0);
    const rows = (u: Awaited<ReturnType<QuotaStore['usage']>>) => u.sort((a, b) => (a.key < b.key ? -1 : 1));
    expect(rows(await s.usage(`${k}:`, T0 + 1000))).toEqual([
      { key: `${k}:A`, tokens: 3, usedToday: 3, dayKey: '2024-05-01' },
      { key: `${k}:B`, tokens: null, usedToday: 2, dayKey: '2024-05-01' },
    ]);
    expect(rows(await s.usage(`${k}:`, MIDNIGHT + 60_000))).toEqual([
      { key: `${k}:A`, tokens: 5, usedToday: 0, dayKey: '2024-05-01' },
      { key: `${k}:B`, tokens: null, usedToday: 0, dayKey: '2024-05-01' },
    ]);
    expect(await s.usage(`${k}:`, T0, 1)).toHaveLength(1);
  }));

  it('refuses a spec no store can take with MMS_ERR_QUOTA_INVALID', withStore(async (s, k) => {
    const bad: [string, Partial<QuotaSpec>, number][] = [
      [k, { ratePerSec: 0, burst: 1 }, T0], [k, { ratePerSec: 1 / 7, burst: 1 }, T0],
      [k, { ratePerSec: 1, burst: 0 }, T0],
      [k, { ratePerSec: 1, burst: 1.5 }, T0], [k, { daily: 0 }, T0], [k, { daily: 2 ** 60 }, T0], [k, {}, Number.NaN],
      [k, {}, T0 + 0.5], ['', {}, T0], [k, { dayKey: 'x'.repeat(33) }, T0], [k, { ratePerSec: Infinity, burst: 1 }, T0],
    ];
    for (const [key, o, now] of bad) {
      await expect(s.take(key, specAt(T0, o), now), JSON.stringify([key, o, now])).rejects.toMatchObject({
        name: 'QuotaStoreError', code: QuotaStoreErrorCode.INVALID,
      });
    }
  }));
}
