/**
 * readBody over in-memory streams: the same bytes at every split point, the budget charged as bytes
 * arrive (memory held, not Content-Length promised), an upload failing alone when the budget runs out
 * mid-way, and the old results (oversize, length mismatch, abort) unchanged.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { MIN_CAPACITY, readBody, type BodyResult } from '../src/body.js';
import { ByteBudget } from '../src/budget.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const bytes = (n: number, seed = 1): Buffer =>
  Buffer.from(Array.from({ length: n }, (_, i) => (i * 131 + seed) & 0xff));
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

function feed(chunks: Buffer[], end = true): PassThrough {
  const s = new PassThrough();
  for (const c of chunks) s.write(c);
  if (end) s.end();
  return s;
}

function complete(r: BodyResult): Buffer {
  if (r.kind !== 'complete') throw new Error(`expected complete, got ${r.kind}`);
  return r.body;
}

describe('readBody', () => {
  it('reads the same bytes whatever the split point, with and without a declared length', async () => {
    const body = bytes(300);
    for (const declared of [body.length, null]) {
      for (let k = 0; k <= body.length; k++) {
        const budget = new ByteBudget(MiB);
        const chunks = [body.subarray(0, k), body.subarray(k)];
        const r = await readBody(feed(chunks), { declaredLength: declared, limit: MiB, budget });
        expect(complete(r).equals(body), `split ${k}`).toBe(true);
        expect(budget.inUse).toBe(r.reserved);
        budget.give(r.reserved);
        expect(budget.inUse).toBe(0);
      }
    }
  });

  it('reads a body sent one byte at a time, growing past several capacities', async () => {
    const body = bytes(MIN_CAPACITY * 3 + 5);
    const chunks = Array.from({ length: body.length }, (_, i) => body.subarray(i, i + 1));
    const r = await readBody(feed(chunks), { declaredLength: null, limit: MiB, budget: new ByteBudget(MiB) });
    expect(complete(r).equals(body)).toBe(true);
  });

  it('reserves nothing for a declared length before a byte arrives, MIN_CAPACITY for the first byte', async () => {
    const budget = new ByteBudget(256 * MiB);
    const s = new PassThrough();
    const pending = readBody(s, { declaredLength: 10 * MiB, limit: 10 * MiB, budget });
    await tick();
    expect(budget.inUse).toBe(0);
    s.write(Buffer.from('A'));
    await tick();
    expect(budget.inUse).toBe(MIN_CAPACITY);
    s.destroy();
    expect((await pending).kind).toBe('aborted');
    expect(budget.inUse).toBe(0);
  });

  it('charges at most twice what arrived (or MIN_CAPACITY), exactly the declared length once complete', async () => {
    const budget = new ByteBudget(256 * MiB);
    const body = bytes(3 * MiB + 17);
    const charged: { len: number; inUse: number }[] = [];
    const chunks = Array.from({ length: Math.ceil(body.length / 4000) }, (_, i) =>
      body.subarray(i * 4000, (i + 1) * 4000));
    const r = await readBody(feed(chunks), {
      declaredLength: body.length, limit: 10 * MiB, budget,
      onProgress: (v) => charged.push({ len: v.length, inUse: budget.inUse }),
    });
    expect(complete(r).equals(body)).toBe(true);
    for (const c of charged) expect(c.inUse).toBeLessThanOrEqual(Math.max(2 * c.len, MIN_CAPACITY));
    expect(r.reserved).toBe(body.length);
  });

  it('charges the same without onProgress, where the chunks are kept and copied once at the end', async () => {
    const budget = new ByteBudget(256 * MiB);
    const body = bytes(300 * KiB + 17);
    const s = new PassThrough();
    const pending = readBody(s, { declaredLength: body.length, limit: 10 * MiB, budget });
    for (let off = 0; off < body.length; off += 40 * KiB) {
      s.write(body.subarray(off, off + 40 * KiB));
      await tick();
      const arrived = Math.min(off + 40 * KiB, body.length);
      expect(budget.inUse).toBeLessThanOrEqual(Math.max(2 * arrived, MIN_CAPACITY));
      expect(budget.inUse).toBeGreaterThanOrEqual(arrived);
    }
    s.end();
    const r = await pending;
    expect(complete(r).equals(body)).toBe(true);
    expect(r.reserved).toBe(body.length);
  });

  it('fails only the upload that runs the budget out mid-way; the one holding its bytes completes', async () => {
    const budget = new ByteBudget(256 * KiB);
    const a = bytes(150 * KiB, 2);
    const sa = new PassThrough();
    const ra = readBody(sa, { declaredLength: a.length, limit: MiB, budget });
    sa.write(a.subarray(0, 140 * KiB));
    await tick();
    const held = budget.inUse;
    expect(held).toBeGreaterThanOrEqual(140 * KiB);
    const b = bytes(200 * KiB, 3);
    const sb = new PassThrough();
    const rb = readBody(sb, { declaredLength: b.length, limit: MiB, budget });
    for (let off = 0; off < b.length; off += 4 * KiB) sb.write(b.subarray(off, off + 4 * KiB));
    sb.end();
    expect((await rb).kind).toBe('budget');
    expect(budget.inUse).toBe(held);
    sa.end(a.subarray(140 * KiB));
    const done = await ra;
    expect(complete(done).equals(a)).toBe(true);
    budget.give(done.reserved);
    expect(budget.inUse).toBe(0);
  });

  it('near the budget\'s end takes what a chunk needs instead of doubling: a body that fits completes', async () => {
    const budget = new ByteBudget(100 * KiB);
    expect(budget.tryTake(50 * KiB)).toBe(true);
    const body = bytes(45 * KiB);
    const chunks = Array.from({ length: 45 }, (_, i) => body.subarray(i * KiB, (i + 1) * KiB));
    const r = await readBody(feed(chunks), { declaredLength: null, limit: MiB, budget });
    expect(complete(r).equals(body)).toBe(true);
    expect(budget.inUse).toBeLessThanOrEqual(100 * KiB);
  });

  it('refuses at once a declared length the whole budget could never hold', async () => {
    const budget = new ByteBudget(MiB);
    const r = await readBody(feed([], false), { declaredLength: 2 * MiB, limit: 10 * MiB, budget });
    expect(r.kind).toBe('budget');
    expect(budget.inUse).toBe(0);
  });

  it('reports oversize by declaration (nothing read) and by bytes (head kept, rest left to stream)', async () => {
    const budget = new ByteBudget(MiB);
    const declared = await readBody(feed([bytes(10)]), { declaredLength: 200, limit: 100, budget });
    expect(declared.kind === 'oversize' && declared.head.length).toBe(0);
    const body = bytes(150);
    const s = feed([body.subarray(0, 60), body.subarray(60, 120), body.subarray(120)]);
    const r = await readBody(s, { declaredLength: null, limit: 100, budget });
    if (r.kind !== 'oversize') throw new Error(r.kind);
    const rest: Buffer[] = [];
    for await (const c of r.rest as AsyncIterable<Buffer>) rest.push(c);
    expect(Buffer.concat([r.head, ...rest]).equals(body)).toBe(true);
    budget.give(r.reserved);
    expect(budget.inUse).toBe(0);
  });

  it('reports a length mismatch for more bytes than declared and for fewer, and gives the budget back', async () => {
    const budget = new ByteBudget(MiB);
    const opts = { declaredLength: 10, limit: MiB, budget };
    expect((await readBody(feed([bytes(20)]), opts)).kind).toBe('length-mismatch');
    expect((await readBody(feed([bytes(5)]), opts)).kind).toBe('length-mismatch');
    expect(budget.inUse).toBe(0);
  });

  it('reports an abort and gives the budget back', async () => {
    const budget = new ByteBudget(MiB);
    const s = feed([bytes(1000)], false);
    const pending = readBody(s, { declaredLength: 5000, limit: MiB, budget });
    await tick();
    expect(budget.inUse).toBeGreaterThan(0);
    s.destroy(new Error('reset'));
    expect((await pending).kind).toBe('aborted');
    expect(budget.inUse).toBe(0);
  });
});
