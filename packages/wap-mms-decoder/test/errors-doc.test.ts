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
    // The scan packages' codes are in the same file; their own tests check them (ICAP: test/icap.test.ts).
    const others = ['MMS_ERR_SCAN', 'MMS_ERR_CLAMD', 'MMS_ERR_ICAP'];
    for (const d of documented) {
      if (d === undefined || others.some((p) => d.startsWith(p))) continue;
      expect(codes.has(d) || d === 'MMS_ERR_IO' || d === 'MMS_ERR_INTERNAL', d).toBe(true);
    }
  });
});
