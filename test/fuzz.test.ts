/** `pnpm fuzz` at a CI-sized budget (100,000 inputs, a fresh seed per run); the full 10^6 run's figures are in bench/results/fuzz.json. */
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(fileURLToPath(import.meta.url), '../..');

describe('pnpm fuzz (CI budget)', () => {
  it('every parser ends each of 100,000 inputs in a value or its typed error, within 250 ms', () => {
    const seed = String(Math.floor(Math.random() * 2 ** 31));
    const out = `fuzz-ci-${seed}.json`;
    const r = spawnSync(process.execPath, [resolve(ROOT, 'bench/dist/fuzz.js')], {
      env: { ...process.env, FUZZ_INPUTS: '100000', FUZZ_SECONDS: '120', FUZZ_SEED: seed, FUZZ_OUT: out },
      encoding: 'utf8',
      timeout: 180_000,
    });
    const file = resolve(ROOT, 'bench/results', out);
    const res = JSON.parse(readFileSync(file, 'utf8')) as { inputs: number; results: { target: string; crashes: number; slow: number }[] };
    rmSync(file, { force: true });
    expect(r.stderr, `seed ${seed}`).not.toMatch(/CRASH/);
    expect(res.inputs).toBe(100_000);
    for (const t of res.results) expect({ target: t.target, crashes: t.crashes, slow: t.slow }).toEqual({ target: t.target, crashes: 0, slow: 0 });
    expect(r.status).toBe(0);
  });
});
