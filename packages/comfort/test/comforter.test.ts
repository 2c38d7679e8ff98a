import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ComfortScheduler, Comforter, type Clock } from '../src/index.js';

const clock: Clock = {
  now: () => Date.now(),
  setTimeout: (f, ms) => setTimeout(f, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

interface Collected {
  bytes: () => number;
  data: () => Buffer;
  ended: () => boolean;
  error: () => Error | null;
}

function collect(c: Comforter): Collected {
  const chunks: Buffer[] = [];
  let ended = false;
  let error: Error | null = null;
  c.output.on('data', (d: Buffer) => chunks.push(Buffer.from(d)));
  c.output.on('end', () => (ended = true));
  c.output.on('error', (e) => (error = e));
  return {
    bytes: () => chunks.reduce((n, b) => n + b.length, 0),
    data: () => Buffer.concat(chunks),
    ended: () => ended,
    error: () => error,
  };
}


beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date', 'setImmediate'] });
});
afterEach(() => vi.useRealTimers());

describe('Comforter', () => {
  it("holds the seed's worked example: 1 MB, INTERVAL 20 s, AMOUNT 512, 40 s of buffering -> 1,024 bytes", async () => {
    vi.useRealTimers();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const s = new ComfortScheduler(clock);
    const body = Buffer.alloc(1_000_000, 7);
    const c = new Comforter(s, () => body, { intervalMs: 20_000, amount: 512 });
    const out = collect(c);
    await vi.advanceTimersByTimeAsync(19_999);
    expect(out.bytes()).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(out.bytes()).toBe(512);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(out.bytes()).toBe(1024);
    c.inputComplete();
    c.release();
    await vi.advanceTimersByTimeAsync(0);
    await new Promise((r) => process.nextTick(r));
    vi.useRealTimers();
    await new Promise((r) => setImmediate(r));
    expect(out.ended()).toBe(true);
    expect(out.data().equals(body)).toBe(true);
  });

  it('sends at most what is buffered minus the held-back byte when AMOUNT exceeds what has arrived', async () => {
    const s = new ComfortScheduler(clock);
    let avail = Buffer.alloc(100, 1);
    const c = new Comforter(s, () => avail, { intervalMs: 1000, amount: 512 });
    const out = collect(c);
    await vi.advanceTimersByTimeAsync(1000);
    expect(out.bytes()).toBe(99);
    avail = Buffer.concat([avail, Buffer.alloc(200, 2)]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(out.bytes()).toBe(299);
    await vi.advanceTimersByTimeAsync(1000);
    expect(out.bytes()).toBe(299);
    c.cut();
    await vi.advanceTimersByTimeAsync(1);
    expect(out.error()).not.toBeNull();
  });

  it('delivers a body smaller than one AMOUNT completely, the last byte only once released', async () => {
    const s = new ComfortScheduler(clock);
    const body = Buffer.from('tiny');
    const c = new Comforter(s, () => body, { intervalMs: 1000, amount: 512 });
    const out = collect(c);
    await vi.advanceTimersByTimeAsync(1000);
    expect(out.data().toString()).toBe('tin');
    c.inputComplete();
    c.release();
    await vi.advanceTimersByTimeAsync(10);
    expect(out.ended()).toBe(true);
    expect(out.data().toString()).toBe('tiny');
  });

  it('waits for the input to complete before the final flush', async () => {
    const s = new ComfortScheduler(clock);
    let avail = Buffer.from('abc');
    const c = new Comforter(s, () => avail, { intervalMs: 1000, amount: 1 });
    const out = collect(c);
    await vi.advanceTimersByTimeAsync(2000);
    expect(out.data().toString()).toBe('ab');
    c.release();
    await vi.advanceTimersByTimeAsync(5000);
    expect(out.data().toString()).toBe('ab');
    avail = Buffer.from('abcdef');
    c.inputComplete();
    await vi.advanceTimersByTimeAsync(10);
    expect(out.data().toString()).toBe('abcdef');
    expect(out.ended()).toBe(true);
  });

  it('cuts: the output errors and never ends', async () => {
    const s = new ComfortScheduler(clock);
    const c = new Comforter(s, () => Buffer.alloc(1000), { intervalMs: 100, amount: 10 });
    const out = collect(c);
    await vi.advanceTimersByTimeAsync(300);
    expect(out.bytes()).toBe(30);
    expect(c.started).toBe(true);
    c.cut('virus');
    await vi.advanceTimersByTimeAsync(1000);
    expect(out.bytes()).toBe(30);
    expect(out.ended()).toBe(false);
    expect(out.error()?.message).toMatch(/cut: virus/);
    expect(s.size).toBe(0);
  });

  it('rejects an interval of 0 and an amount below 1', () => {
    const s = new ComfortScheduler(clock);
    expect(() => new Comforter(s, () => Buffer.alloc(1), { intervalMs: 0, amount: 1 })).toThrow(RangeError);
    expect(() => new Comforter(s, () => Buffer.alloc(1), { intervalMs: 10, amount: 0 })).toThrow(RangeError);
  });

  it('calls onFirstByte once, just before the first byte', async () => {
    const s = new ComfortScheduler(clock);
    const seen: number[] = [];
    let c: Comforter | null = null;
    c = new Comforter(s, () => Buffer.alloc(100), {
      intervalMs: 10, amount: 5, onFirstByte: () => seen.push(c?.sent ?? -1),
    });
    await vi.advanceTimersByTimeAsync(50);
    expect(seen).toEqual([0]);
    c.output.on('error', () => undefined);
    c.cut();
  });

  it('uses one timer for a thousand transfers', async () => {
    const s = new ComfortScheduler(clock);
    const cs = Array.from({ length: 1000 }, (_, i) =>
      new Comforter(s, () => Buffer.alloc(100), { intervalMs: 100 + (i % 7), amount: 1 }));
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(vi.getTimerCount()).toBe(1);
    expect(cs.every((c) => c.sent >= 9)).toBe(true);
    cs.forEach((c) => {
      c.output.on('error', () => undefined);
      c.cut();
    });
    expect(vi.getTimerCount()).toBe(0);
  });
});
