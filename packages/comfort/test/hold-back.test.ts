/**
 * The held-back tail (issue 14, class 4): whatever AMOUNT and however many intervals pass, a comforted
 * receiver never has the complete body before the verdict. Driven tick by tick (the scheduler's timer is
 * never armed), at every arrival split point, for known and unknown lengths.
 */
import { describe, expect, it } from 'vitest';
import { ComfortError, ComfortScheduler, Comforter, type Clock, type FramingHeaders } from '../src/index.js';

/** A clock whose timers never fire: the tests call tick() themselves. */
function manualClock(): Clock {
  return { now: () => 0, setTimeout: () => null, clearTimeout: () => undefined };
}

interface Seen {
  data: () => Buffer;
  ended: () => boolean;
  error: () => Error | null;
}

function watch(c: Comforter): Seen {
  const chunks: Buffer[] = [];
  let ended = false;
  let error: Error | null = null;
  c.output.on('data', (d: Buffer) => chunks.push(Buffer.from(d)));
  c.output.on('end', () => (ended = true));
  c.output.on('error', (e) => (error = e));
  return { data: () => Buffer.concat(chunks), ended: () => ended, error: () => error };
}

const settle = (): Promise<void> => new Promise((r) => setImmediate(r));
const body = Buffer.from(Array.from({ length: 64 }, (_, i) => (i * 37 + 11) & 0xff));

/** Arrival in two pieces at `split`, `ticks` intervals before and after the second piece arrives. */
function comforted(split: number, amount: number, known: boolean, ticks: number): { c: Comforter; maxSent: number } {
  let avail = body.subarray(0, split);
  const c = new Comforter(new ComfortScheduler(manualClock()), () => avail, {
    intervalMs: 1000, amount, length: known ? body.length : null,
  });
  let maxSent = 0;
  let now = 0;
  const run = (): void => {
    for (let i = 0; i < ticks; i++) {
      c.tick((now += 1000));
      maxSent = Math.max(maxSent, c.sent);
    }
  };
  run();
  avail = body;
  c.inputComplete();
  run();
  return { c, maxSent };
}

describe('held-back tail', () => {
  it('never sends the last byte before the verdict, at every split point, AMOUNT and framing', () => {
    for (const known of [true, false]) {
      for (const amount of [1, 5, 63, 64, 1000]) {
        for (let split = 0; split <= body.length; split++) {
          const { c, maxSent } = comforted(split, amount, known, 100);
          expect(maxSent, `known=${known} amount=${amount} split=${split}`).toBe(body.length - 1);
          c.output.on('error', () => undefined);
          c.cut();
        }
      }
    }
  });

  it('blocked after AMOUNT >= body size and many intervals: the receiver has an incomplete transfer', async () => {
    for (const known of [true, false]) {
      const { c } = comforted(body.length, 10_000, known, 50);
      const seen = watch(c);
      await settle();
      c.cut('virus');
      await settle();
      expect(seen.data().equals(body.subarray(0, body.length - 1))).toBe(true);
      expect(seen.ended()).toBe(false);
      expect(seen.error()).toBeInstanceOf(ComfortError);
    }
  });

  it('clean after AMOUNT >= body size and many intervals: the receiver gets exactly the original bytes', async () => {
    for (const known of [true, false]) {
      for (let split = 0; split <= body.length; split += 7) {
        const { c } = comforted(split, 10_000, known, 50);
        const seen = watch(c);
        c.release();
        await settle();
        expect(seen.ended()).toBe(true);
        expect(seen.data().equals(body)).toBe(true);
      }
    }
  });

  it('with an unknown length, ends the output (the terminating chunk) only on release', async () => {
    let avail = body.subarray(0, 10);
    const c = new Comforter(new ComfortScheduler(manualClock()), () => avail, { intervalMs: 10, amount: 3 });
    const seen = watch(c);
    for (let t = 1; t <= 40; t++) c.tick(t * 10);
    await settle();
    expect(seen.data().length).toBe(9);
    avail = body;
    c.inputComplete();
    for (let t = 41; t <= 100; t++) c.tick(t * 10);
    await settle();
    expect(seen.data().length).toBe(63);
    expect(seen.ended()).toBe(false);
    c.release();
    await settle();
    expect(seen.ended()).toBe(true);
    expect(seen.data().equals(body)).toBe(true);
  });

  it('holds back a larger tail when asked to', () => {
    const c = new Comforter(new ComfortScheduler(manualClock()), () => body, {
      intervalMs: 10, amount: 1000, length: body.length, holdBack: 16,
    });
    for (let t = 1; t <= 10; t++) c.tick(t * 10);
    expect(c.sent).toBe(body.length - 16);
    c.output.on('error', () => undefined);
    c.cut();
  });

  it('with a known length, caps at length - 1 even while more has arrived than was announced', async () => {
    const c = new Comforter(new ComfortScheduler(manualClock()), () => body, {
      intervalMs: 10, amount: 1000, length: 32,
    });
    const seen = watch(c);
    for (let t = 1; t <= 10; t++) c.tick(t * 10);
    expect(c.sent).toBe(31);
    c.inputComplete();
    c.release();
    await settle();
    // 64 bytes against an announced 32: cut, so the receiver never gets a body that disagrees with its framing.
    expect(seen.ended()).toBe(false);
    expect(seen.error()?.message).toMatch(/64 bytes, 32 were announced/);
    expect(seen.data().length).toBe(31);
  });

  it('cuts instead of ending when the input completes shorter than the announced length', async () => {
    const c = new Comforter(new ComfortScheduler(manualClock()), () => body, {
      intervalMs: 10, amount: 5, length: 100,
    });
    const seen = watch(c);
    c.tick(10);
    c.release();
    c.inputComplete();
    await settle();
    expect(seen.ended()).toBe(false);
    expect(seen.error()).toBeInstanceOf(ComfortError);
  });

  it('sends nothing of a one-byte body before the verdict, and that byte on release', async () => {
    const one = Buffer.from('x');
    const c = new Comforter(new ComfortScheduler(manualClock()), () => one, { intervalMs: 10, amount: 100, length: 1 });
    const seen = watch(c);
    for (let t = 1; t <= 10; t++) c.tick(t * 10);
    expect(c.started).toBe(false);
    c.inputComplete();
    c.release();
    await settle();
    expect(seen.data().toString()).toBe('x');
    expect(seen.ended()).toBe(true);
  });

  it('names the framing header: the original Content-Length when known, chunked when not', () => {
    const s = new ComfortScheduler(manualClock());
    const framings: FramingHeaders[] = [];
    const known = new Comforter(s, () => body, {
      intervalMs: 10, amount: 1, length: 64, onFirstByte: (f) => framings.push(f),
    });
    const unknown = new Comforter(s, () => body, { intervalMs: 10, amount: 1, onFirstByte: (f) => framings.push(f) });
    expect(known.framing).toEqual({ 'content-length': '64' });
    expect(unknown.framing).toEqual({ 'transfer-encoding': 'chunked' });
    known.tick(10);
    unknown.tick(10);
    expect(framings).toEqual([{ 'content-length': '64' }, { 'transfer-encoding': 'chunked' }]);
    for (const c of [known, unknown]) {
      c.output.on('error', () => undefined);
      c.cut();
    }
  });

  it('rejects a holdBack below 1 and a length that is not a non-negative integer', () => {
    const s = new ComfortScheduler(manualClock());
    const make = (o: { holdBack?: number; length?: number }) => (): Comforter =>
      new Comforter(s, () => body, { intervalMs: 10, amount: 1, ...o });
    expect(make({ holdBack: 0 })).toThrow(RangeError);
    expect(make({ holdBack: 1.5 })).toThrow(RangeError);
    expect(make({ length: -1 })).toThrow(RangeError);
    expect(make({ length: 2.5 })).toThrow(RangeError);
    expect(s.size).toBe(0);
  });
});
