/** The overload soak at a CI-sized budget (8 s at 2x capacity); the 60 s figures are in bench/results/soak.json. */
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(fileURLToPath(import.meta.url), '../..');

describe('overload soak (CI budget)', () => {
  it('at 2x capacity: no crash, excess answered 503, bounded RSS, throughput recovers', () => {
    const out = `soak-ci-${process.pid}.json`;
    const r = spawnSync(process.execPath, [resolve(ROOT, 'bench/dist/soak.js')], {
      env: { ...process.env, SOAK_SECONDS: '8', SOAK_CAPACITY_SECONDS: '4', SOAK_RECOVER_SECONDS: '4', SOAK_OUT: out, SOAK_INFLIGHT_LIMIT: '16MiB' },
      encoding: 'utf8',
      timeout: 120_000,
    });
    const file = resolve(ROOT, 'bench/results', out);
    const res = JSON.parse(readFileSync(file, 'utf8')) as { crashed: boolean; recovery_ratio: number; proxy_peak_rss_mib: number; overload: { ok_2xx: number; other_non2xx: number } };
    rmSync(file, { force: true });
    expect(res.crashed).toBe(false);
    expect(res.overload.ok_2xx).toBeGreaterThan(0);
    expect(res.overload.other_non2xx).toBe(0);
    // Loose bound: in-flight budget 16 MiB plus the Node baseline and socket buffers on loopback.
    expect(res.proxy_peak_rss_mib).toBeLessThan(600);
    expect(res.recovery_ratio).toBeGreaterThan(0.5);
    expect(r.status).toBe(0);
  }, 120_000);
});
