import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MmsErrorCode } from '../src/index.js';
import { REPO_ROOT } from './shared.js';

describe('docs/errors.md', () => {
  it('documents every MmsErrorCode, and no code that does not exist', () => {
    const doc = readFileSync(resolve(REPO_ROOT, 'docs/errors.md'), 'utf8');
    const documented = new Set([...doc.matchAll(/`(MMS_ERR_[A-Z_]+)`/g)].map((m) => m[1]));
    const codes = new Set<string>(Object.values(MmsErrorCode));
    for (const c of codes) expect(documented.has(c), c).toBe(true);
    // Other packages' codes are in the same file; their own tests check them (ICAP: test/icap.test.ts), and so
    // does the test below for MM7, quarantine, verdict store and quotas.
    const others = [
      'MMS_ERR_SCAN', 'MMS_ERR_CLAMD', 'MMS_ERR_ICAP', ...Object.keys(PRODUCERS).map((p) => `MMS_ERR_${p}_`),
    ];
    for (const d of documented) {
      if (d === undefined || others.some((p) => d.startsWith(p))) continue;
      expect(codes.has(d) || d === 'MMS_ERR_IO' || d === 'MMS_ERR_INTERNAL', d).toBe(true);
    }
  });

  it('documents every MM7, quarantine, verdict-store and quota code, and no code that does not exist', () => {
    // Read from the producers' sources as text: this package depends on none of them.
    const doc = readFileSync(resolve(REPO_ROOT, 'docs/errors.md'), 'utf8');
    for (const [area, file] of Object.entries(PRODUCERS)) {
      const source = readFileSync(resolve(REPO_ROOT, file), 'utf8');
      const pattern = new RegExp(`'(MMS_ERR_${area}_[A-Z_]+)'`, 'g');
      const codes = new Set([...source.matchAll(pattern)].map((m) => m[1]));
      const documented = new Set([...doc.matchAll(new RegExp(`\`(MMS_ERR_${area}_[A-Z_]+)\``, 'g'))].map((m) => m[1]));
      expect(codes.size, `${file} defines MMS_ERR_${area}_ codes`).toBeGreaterThan(0);
      expect([...documented].sort(), area).toEqual([...codes].sort());
    }
  });
});

/** Code families documented in docs/errors.md, and the file whose code table defines each. */
const PRODUCERS: Readonly<Record<string, string>> = {
  MM7: 'packages/mm7/src/errors.ts',
  QUARANTINE: 'packages/quarantine/src/errors.ts',
  VERDICT: 'packages/policy/src/verdict-store.ts',
  QUOTA: 'packages/policy/src/vasp-limits.ts',
};
