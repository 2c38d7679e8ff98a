/** The seed's worked example in real time, scaled down 100x: INTERVAL 0.2 s, AMOUNT 512, 0.4 s of buffering. */
import { describe, expect, it } from 'vitest';
import { ComfortScheduler, Comforter } from '../src/index.js';

describe('Comforter in real time', () => {
  it('has sent 1,024 bytes (2 x 512) after 0.4 s of buffering a 1 MB body, and the rest when released', async () => {
    const body = Buffer.alloc(1_000_000, 3);
    const c = new Comforter(new ComfortScheduler(), () => body, { intervalMs: 200, amount: 512 });
    let got = 0;
    let ended = false;
    c.output.on('data', (d: Buffer) => (got += d.length));
    c.output.on('end', () => (ended = true));
    await new Promise((r) => setTimeout(r, 450));
    // Within a tick: timers on a busy machine may be late, never early.
    expect(got).toBeGreaterThanOrEqual(512);
    expect(got).toBeLessThanOrEqual(1024);
    c.inputComplete();
    c.release();
    await new Promise((r) => setTimeout(r, 20));
    expect(ended).toBe(true);
    expect(got).toBe(1_000_000);
  });
});
