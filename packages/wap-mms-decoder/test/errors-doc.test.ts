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
    for (const d of documented) if (d?.startsWith('MMS_ERR_SCAN') !== true && d?.startsWith('MMS_ERR_CLAMD') !== true) expect(codes.has(d as string) || d === 'MMS_ERR_IO' || d === 'MMS_ERR_INTERNAL', d).toBe(true);
  });
});
