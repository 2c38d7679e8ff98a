/** The body buffer pool: size classes, reference-counted leases, bounds, idle trimming (issue 15). */
import { describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { readBody } from '../src/body.js';
import { ByteBudget } from '../src/budget.js';
import { BufferPool, POOL_MIN_CLASS } from '../src/buffer-pool.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const pool = (room = 64 * MiB): BufferPool => new BufferPool({ room: () => room, idleTrimMs: 0 });

describe('BufferPool', () => {
  it('rounds up to four classes per doubling from 16 KiB, plain above the largest class', () => {
    const p = new BufferPool({ room: () => MiB, maxClass: MiB, idleTrimMs: 0 });
    expect(p.classSize(1)).toBe(POOL_MIN_CLASS);
    expect(p.classSize(16 * KiB + 1)).toBe(20 * KiB);
    expect(p.classSize(300 * KiB)).toBe(320 * KiB);
    expect(p.classSize(MiB)).toBe(MiB);
    expect(p.classSize(MiB + 1)).toBe(MiB + 1);
    const big = p.acquire(MiB + 1);
    expect(big.pooled).toBe(false);
    big.drop();
    expect(p.retained).toBe(0);
  });

  it('reuses a buffer only after its last holder dropped it', () => {
    const p = pool();
    const a = p.acquire(300 * KiB);
    a.hold();
    a.drop();
    const b = p.acquire(300 * KiB);
    expect(b.buffer).not.toBe(a.buffer);
    a.drop();
    expect(p.retained).toBe(320 * KiB);
    const c = p.acquire(290 * KiB);
    expect(c.buffer).toBe(a.buffer);
    expect(p.stats).toMatchObject({ reused: 1, allocated: 2, doubleDrops: 0 });
    expect(() => a.hold()).toThrow(/already returned/);
    a.drop();
    expect(p.stats.doubleDrops).toBe(1);
  });

  it('never reuses a forgotten buffer', () => {
    const p = pool();
    const a = p.acquire(100 * KiB);
    a.forget();
    a.drop();
    expect(p.retained).toBe(0);
    expect(p.acquire(100 * KiB).buffer).not.toBe(a.buffer);
    expect(p.stats.forgotten).toBe(1);
  });

  it('keeps free bytes within the room the budget has left', () => {
    const p = pool(100 * KiB);
    const ls = [p.acquire(64 * KiB), p.acquire(64 * KiB)];
    for (const l of ls) l.drop();
    expect(p.retained).toBe(64 * KiB);
    expect(p.stats.trimmed).toBe(1);
  });

  it('lets go of what an interval did not need', () => {
    const p = pool();
    const ls = [p.acquire(32 * KiB), p.acquire(32 * KiB), p.acquire(32 * KiB)];
    for (const l of ls) l.drop();
    p.trim(); // the interval that allocated them: nothing was spare
    expect(p.retained).toBe(96 * KiB);
    p.acquire(32 * KiB).drop(); // one used again; the low-water mark stays at two free
    p.trim();
    expect(p.retained).toBe(32 * KiB);
    p.trim(); // idle
    expect(p.retained).toBe(0);
  });
});

describe('readBody with a pool', () => {
  const feed = (chunks: Buffer[]): Readable => Readable.from(chunks);

  it('copies the chunks once into one pooled buffer, reused by the next body', async () => {
    const budget = new ByteBudget(64 * MiB);
    const body = Buffer.alloc(300 * KiB);
    for (let i = 0; i < body.length; i++) body[i] = (i * 131) & 0xff;
    const chunks = Array.from({ length: 5 }, (_, i) => body.subarray(i * 60 * KiB, (i + 1) * 60 * KiB));
    const r = await readBody(feed(chunks), { declaredLength: body.length, limit: MiB, budget });
    if (r.kind !== 'complete' || !r.lease) throw new Error(r.kind);
    expect(r.body.equals(body)).toBe(true);
    expect(r.body.buffer).toBe(r.lease.buffer.buffer);
    expect(r.reserved).toBe(body.length);
    expect(budget.pool?.stats.acquired).toBe(1);
    r.lease.drop();
    budget.give(r.reserved);
    const again = await readBody(feed(chunks), { declaredLength: body.length, limit: MiB, budget });
    if (again.kind !== 'complete' || !again.lease) throw new Error(again.kind);
    expect(again.lease.buffer).toBe(r.lease.buffer);
    expect(again.body.equals(body)).toBe(true);
    expect(budget.pool?.stats.allocated).toBe(1);
    expect(budget.pool?.stats.reused).toBe(1);
  });

  it('keeps a body that came in one chunk as it came (no copy, no lease)', async () => {
    const budget = new ByteBudget(64 * MiB);
    const chunk = Buffer.alloc(1000, 7);
    const r = await readBody(feed([chunk]), { declaredLength: chunk.length, limit: MiB, budget });
    expect(r.kind === 'complete' && r.body === chunk && r.lease === null).toBe(true);
    expect(budget.pool?.stats.acquired).toBe(0);
  });

  it('with onProgress grows one pooled buffer as bytes come and takes the growth buffers back', async () => {
    const budget = new ByteBudget(64 * MiB);
    const body = Buffer.alloc(300 * KiB);
    for (let i = 0; i < body.length; i++) body[i] = (i * 131) & 0xff;
    const chunks = Array.from({ length: 5 }, (_, i) => body.subarray(i * 60 * KiB, (i + 1) * 60 * KiB));
    const seen: number[] = [];
    const r = await readBody(feed(chunks), {
      declaredLength: body.length, limit: MiB, budget, onProgress: (v) => seen.push(v.length),
    });
    if (r.kind !== 'complete' || !r.lease) throw new Error(r.kind);
    expect(r.body.equals(body)).toBe(true);
    expect(seen).toEqual([60, 120, 180, 240, 300].map((k) => k * KiB));
    // 60 KiB chunks: capacities 60, 120, 240 KiB (classes 64, 128, 256) went back while the body grew.
    expect(budget.pool?.retained).toBe((64 + 128 + 256) * KiB);
    r.lease.drop();
  });

  it('returns the buffer when the body fails, and reads plain buffers with pool: null', async () => {
    const budget = new ByteBudget(64 * MiB);
    const r = await readBody(feed([Buffer.alloc(100)]), { declaredLength: 200, limit: MiB, budget });
    expect(r.kind).toBe('length-mismatch');
    expect(budget.pool?.stats.acquired).toBe(0);
    const growing = await readBody(feed([Buffer.alloc(100)]), {
      declaredLength: 200, limit: MiB, budget, onProgress: () => undefined,
    });
    expect(growing.kind).toBe('length-mismatch');
    expect(budget.pool?.retained).toBe(POOL_MIN_CLASS);
    const plain = await readBody(feed([Buffer.alloc(100)]), { declaredLength: 100, limit: MiB, budget, pool: null });
    expect(plain.kind === 'complete' && plain.lease).toBe(null);
  });
});
