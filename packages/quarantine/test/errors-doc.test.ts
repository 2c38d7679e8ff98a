import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { QuarantineErrorCode } from '../src/index.js';

describe('packages/quarantine/README.md', () => {
  it('documents every QuarantineErrorCode', () => {
    const doc = readFileSync(resolve(fileURLToPath(import.meta.url), '../../README.md'), 'utf8');
    for (const c of Object.values(QuarantineErrorCode)) expect(doc, c).toContain(`\`${c}\``);
  });
});
