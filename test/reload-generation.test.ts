/**
 * Generations (apps/proxy/src/generation.ts) and the reload's bookkeeping (reload.ts): a pinned
 * generation keeps its engines open until its last message ends; engines a later generation kept are
 * never closed under it; every variable is compared on reload; every restart-only variable keeps its
 * running value.
 */
import { describe, expect, it } from 'vitest';
import type { ScanEngine } from '@mmsguard/scan';
import { CONFIG_VARIABLES, parseConfig } from '../apps/proxy/src/config.js';
import { Generations, type Generation } from '../apps/proxy/src/generation.js';
import { RESTART_ONLY, SETTINGS, changedSettings, keepRunning } from '../apps/proxy/src/reload.js';

function engine(name: string): ScanEngine & { closed: number } {
  return {
    name, closed: 0,
    ready: () => Promise.resolve(),
    scan: () => Promise.resolve({ kind: 'clean' }),
    close(this: { closed: number }) {
      this.closed++;
      return Promise.resolve();
    },
  } as unknown as ScanEngine & { closed: number };
}

const config = parseConfig({});
function gen(id: number, engines: ScanEngine[]): Generation {
  return {
    id, config, engines, hashSignatures: null, msisdnList: null, replyTemplates: null, vaspLimits: null, files: [],
  };
}

describe('Generations', () => {
  it('hands a message the generation in force and closes a retired one only when its last message ends', async () => {
    const builtin1 = engine('builtin');
    const clamd = engine('clamd');
    const g = new Generations(gen(1, [builtin1, clamd]), (x) => ({ id: x.id }));
    const a = g.pin();
    const b = g.pin();
    expect(a.ctx.id).toBe(1);
    const builtin2 = engine('builtin');
    g.swap(gen(2, [builtin2, clamd])); // clamd kept: same address
    expect(g.pin().ctx.id).toBe(2);
    a.release();
    a.release(); // idempotent
    await g.closed();
    expect(builtin1.closed).toBe(0); // b still holds generation 1
    b.release();
    await g.closed();
    expect(builtin1.closed).toBe(1);
    expect(clamd.closed).toBe(0); // generation 2 holds it
    expect(g.alive).toBe(1);
    await g.close();
    expect(builtin2.closed).toBe(1);
    expect(clamd.closed).toBe(1);
  });

  it('run() pins for exactly the lifetime of the handler, even when it throws', async () => {
    const e1 = engine('builtin');
    const g = new Generations(gen(1, [e1]), (x) => x);
    let release: () => void = () => undefined;
    const running = g.run(async (ctx) => {
      expect(ctx.id).toBe(1);
      await new Promise<void>((r) => (release = r));
      throw new Error('handler failed');
    });
    g.swap(gen(2, [engine('builtin')]));
    await new Promise((r) => setTimeout(r, 10));
    expect(e1.closed).toBe(0);
    release();
    await expect(running).rejects.toThrow('handler failed');
    await g.closed();
    expect(e1.closed).toBe(1);
  });

  it('refuses a generation that does not follow the one in force', () => {
    const g = new Generations(gen(3, []), (x) => x);
    expect(() => g.swap(gen(3, []))).toThrow(RangeError);
  });
});

describe('what a reload compares and keeps', () => {
  it('compares every configuration variable', () => {
    expect(Object.keys(SETTINGS).sort()).toEqual([...CONFIG_VARIABLES].sort());
    for (const v of RESTART_ONLY) expect(Object.keys(SETTINGS)).toContain(v);
  });

  // A valid value other than the default for each restart-only variable.
  const OTHER: Record<string, string> = {
    HOST: '127.0.0.1', MM1_PORT: '18080', MM7_PORT: '18081', ADMIN_PORT: '19090', ADMIN_HOST: '127.0.0.2',
    ADMIN_TOKEN: 'secret', SIM_PORT: '18090', MM1_UPSTREAM_URL: 'http://mmsc:8002', MM7_UPSTREAM_URL: 'http://mmsc:8003',
    UPSTREAM_TIMEOUT: '61', UPSTREAM_CONNECTIONS: '10', REQUEST_TIMEOUT: '301', HEADERS_TIMEOUT: '31',
    INFLIGHT_LIMIT: '1MiB', STATE_STORE: 'redis://127.0.0.1:6379', LOG_FORMAT: 'kv', MSISDN_HASH_KEY: 'k',
    NOTIFY_URL: 'http://hook:1/x', NOTIFY_INTERVAL: '61', NOTIFY_RATE: '6', NOTIFY_WINDOW: 'mon-fri 08:00-18:00',
    SENDER_NOTICE_URL: 'http://mmsc:8002', SENDER_NOTICE_FROM: '+4799', SENDER_NOTICE_INTERVAL: '61', WORKERS: '3',
  };

  it('keeps the running value of every restart-only variable and applies the rest', () => {
    for (const v of ['QUARANTINE_DIR', 'QUARANTINE_MAX_BYTES', 'VERDICT_RETENTION', 'LOG_LEVEL', 'SHUTDOWN_TIMEOUT']) {
      expect(RESTART_ONLY).not.toContain(v); // CONTRACT §6: these apply on reload
    }
    expect(Object.keys(OTHER).sort()).toEqual([...RESTART_ONLY].sort());
    const running = parseConfig({});
    for (const [name, value] of Object.entries(OTHER)) {
      const next = parseConfig({ [name]: value, MM1_OVERSIZE_LIMIT: '1KiB' });
      expect(changedSettings(running, next), name).toContain(name);
      expect(changedSettings(running, keepRunning(running, next)), name).toEqual(['MM1_OVERSIZE_LIMIT']);
    }
  });

  it('sees a change inside a list of thresholds or a set of file types', () => {
    const a = parseConfig({ FLOOD_THRESHOLDS: '10/60:block:600', FILE_FILTER: 'exe,dll' });
    expect(changedSettings(a, parseConfig({ FLOOD_THRESHOLDS: '10/60:block:600', FILE_FILTER: 'dll,exe' }))).toEqual([]);
    expect(changedSettings(a, parseConfig({ FLOOD_THRESHOLDS: '10/60:block:601', FILE_FILTER: 'exe,dll' })))
      .toEqual(['FLOOD_THRESHOLDS']);
    expect(changedSettings(a, parseConfig({ FLOOD_THRESHOLDS: '10/60:block:600', FILE_FILTER: 'exe' })))
      .toEqual(['FILE_FILTER']);
  });
});
