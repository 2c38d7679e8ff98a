import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ScanErrorCode } from '../src/index.js';

describe('docs/errors.md', () => {
  it('documents every ScanErrorCode', () => {
    const doc = readFileSync(resolve(fileURLToPath(import.meta.url), '../../../../docs/errors.md'), 'utf8');
    for (const c of Object.values(ScanErrorCode)) expect(doc, c).toContain(`\`${c}\``);
  });
});
