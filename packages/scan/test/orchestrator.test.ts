import { describe, expect, it } from 'vitest';
import { scanTargets, scanWithEngine, type ScanEngine, type ScanOutcome } from '../src/index.js';

// Small real engines implementing the interface (not mocks of our code).
const engine = (name: string, scan: (signal: AbortSignal) => Promise<ScanOutcome>): ScanEngine => ({
  name,
  ready: () => Promise.resolve(),
  close: () => Promise.resolve(),
  scan: (_t, signal) => scan(signal),
});
const target = { path: 'p', data: new Uint8Array(1) };

describe('the orchestrator', () => {
  it('turns a hanging engine into an error outcome at the timeout, and aborts its signal', async () => {
    let aborted = false;
    const hang = engine('hang', (signal) => new Promise((resolve) => signal.addEventListener('abort', () => {
      aborted = true;
      resolve({ kind: 'clean' });
    })));
    const r = await scanWithEngine(hang, target, 50);
    expect(r.outcome).toMatchObject({ kind: 'error', code: 'MMS_ERR_SCAN_TIMEOUT' });
    expect(aborted).toBe(true);
  });

  it('turns a throwing engine into an error outcome', async () => {
    const boom = engine('boom', () => Promise.reject(new Error('kaput')));
    expect((await scanWithEngine(boom, target, 1000)).outcome).toEqual({
      kind: 'error', code: 'MMS_ERR_SCAN_ENGINE', message: 'boom: kaput',
    });
  });

  it('stops when the caller aborts', async () => {
    const ctl = new AbortController();
    const slow = engine('slow', () => new Promise((r) => setTimeout(() => r({ kind: 'clean' }), 500)));
    setTimeout(() => ctl.abort(), 20);
    const r = await scanWithEngine(slow, target, 5000, ctl.signal);
    expect(r.outcome).toMatchObject({ kind: 'error', code: 'MMS_ERR_SCAN_ABORTED' });
  });

  it('takes the answer of an engine that scans on the calling thread from scanSync, not scan', async () => {
    const sync: ScanEngine = {
      ...engine('sync', () => Promise.reject(new Error('scan called'))),
      scanSync: (data) => ({ kind: 'infected', name: `len-${data.length}` }),
    };
    const r = await scanWithEngine(sync, target, 1000);
    expect(r).toMatchObject({ engine: 'sync', outcome: { kind: 'infected', name: 'len-1' } });
  });

  it('turns a throw from scanSync into an error outcome', async () => {
    const boom: ScanEngine = {
      ...engine('boom', () => Promise.resolve({ kind: 'clean' })),
      scanSync: () => {
        throw new Error('kaput');
      },
    };
    expect((await scanWithEngine(boom, target, 1000)).outcome).toEqual({
      kind: 'error', code: 'MMS_ERR_SCAN_ENGINE', message: 'boom: kaput',
    });
  });

  it('does not start an engine that scans on the calling thread once the caller has aborted', async () => {
    let ran = false;
    const sync: ScanEngine = {
      ...engine('sync', () => Promise.resolve({ kind: 'clean' })),
      scanSync: () => {
        ran = true;
        return { kind: 'clean' };
      },
    };
    const ctl = new AbortController();
    ctl.abort();
    const r = await scanWithEngine(sync, target, 1000, ctl.signal);
    expect(r.outcome).toMatchObject({ kind: 'error', code: 'MMS_ERR_SCAN_ABORTED' });
    expect(ran).toBe(false);
  });

  it('runs every engine on every target', async () => {
    const a = engine('a', () => Promise.resolve({ kind: 'clean' }));
    const b = engine('b', () => Promise.resolve({ kind: 'infected', name: 'X' }));
    const r = await scanTargets([a, b], [target, { ...target, path: 'q' }], { timeoutMs: 1000 });
    expect(r.map((t) => t.results.map((x) => `${t.target.path}:${x.engine}:${x.outcome.kind}`))).toEqual([
      ['p:a:clean', 'p:b:infected'],
      ['q:a:clean', 'q:b:infected'],
    ]);
  });
});
