/**
 * The minimum upload rate, on fake timers: an upload must bring bytesPerSecond × graceMs / 1000 bytes in
 * every graceMs-long window (the first ending graceMs after the read started), or it ends as too-slow.
 */
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { readBody, type MinRate, type UploadResult } from '../src/body.js';
import { ByteBudget } from '../src/budget.js';

const KiB = 1024;
const RATE: MinRate = { bytesPerSecond: KiB, graceMs: 10_000 };

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
});
afterEach(() => vi.useRealTimers());

interface Upload {
  stream: PassThrough;
  budget: ByteBudget;
  result: () => UploadResult | null;
  done: Promise<UploadResult>;
}

function upload(declaredLength: number | null, minRate: MinRate = RATE): Upload {
  const stream = new PassThrough();
  const budget = new ByteBudget(10 * 1024 * KiB);
  let result: UploadResult | null = null;
  const done = readBody(stream, { declaredLength, limit: 10 * 1024 * KiB, budget, minRate });
  void done.then((r) => (result = r));
  return { stream, budget, result: () => result, done };
}

/** Writes `perSecond` bytes every second (in ten slices) for `seconds`, on the fake clock. */
async function send(u: Upload, perSecond: number, seconds: number): Promise<void> {
  for (let i = 0; i < seconds * 10 && u.result() === null; i++) {
    u.stream.write(Buffer.alloc(Math.round(perSecond / 10), 0x41));
    await vi.advanceTimersByTimeAsync(100);
  }
}

describe('minimum upload rate', () => {
  it('cuts a silent upload as too-slow when the grace period ends, not before, and gives the budget back', async () => {
    const u = upload(10 * 1024 * KiB);
    u.stream.write(Buffer.from('A'));
    await vi.advanceTimersByTimeAsync(9_999);
    expect(u.result()).toBeNull();
    expect(u.budget.inUse).toBeGreaterThan(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(u.result()).toMatchObject({ kind: 'too-slow', received: 1, windowBytes: 1, elapsedMs: 10_000 });
    expect(u.budget.inUse).toBe(0);
    expect(u.stream.isPaused()).toBe(true);
  });

  it('cuts an upload just below the rate and lets one just above it finish', async () => {
    const below = upload(null);
    await send(below, 1000, 30);
    expect(below.result()?.kind).toBe('too-slow');
    const above = upload(null);
    await send(above, 1100, 30);
    expect(above.result()).toBeNull();
    above.stream.end();
    expect((await above.done).kind).toBe('complete');
  });

  it('judges a sliding window, not the average since the start: a fast start buys no long stall', async () => {
    const u = upload(null);
    u.stream.write(Buffer.alloc(100 * KiB));
    await vi.advanceTimersByTimeAsync(10_900);
    // The average since the start is still over 9 KiB/s here.
    expect(u.result()).toBeNull();
    await vi.advanceTimersByTimeAsync(100);
    expect(u.result()).toMatchObject({ kind: 'too-slow', received: 100 * KiB, windowBytes: 0 });
  });

  it('leaves a slow upload alone when the rate is 0, and arms no timer', async () => {
    const u = upload(null, { bytesPerSecond: 0, graceMs: 10_000 });
    expect(vi.getTimerCount()).toBe(0);
    u.stream.write(Buffer.from('A'));
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(u.result()).toBeNull();
    u.stream.end();
    expect((await u.done).kind).toBe('complete');
  });

  it('clears its timer when the body completes', async () => {
    const u = upload(4);
    expect(vi.getTimerCount()).toBe(1);
    u.stream.end(Buffer.from('abcd'));
    expect((await u.done).kind).toBe('complete');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('refuses a negative rate and a grace too short to sample', () => {
    const s = new PassThrough();
    const opts = { declaredLength: null, limit: KiB, budget: new ByteBudget(KiB) };
    expect(() => readBody(s, { ...opts, minRate: { bytesPerSecond: -1, graceMs: 10_000 } })).toThrow(RangeError);
    expect(() => readBody(s, { ...opts, minRate: { bytesPerSecond: KiB, graceMs: 0 } })).toThrow(RangeError);
    expect(() => readBody(s, { ...opts, minRate: { bytesPerSecond: KiB, graceMs: Number.NaN } })).toThrow(RangeError);
  });
});
