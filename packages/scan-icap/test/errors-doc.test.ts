import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { IcapErrorCode } from '../src/index.js';

describe('README.md', () => {
  it('documents every IcapErrorCode, and no code that does not exist', () => {
    const doc = readFileSync(resolve(fileURLToPath(import.meta.url), '../../README.md'), 'utf8');
    const codes = Object.values(IcapErrorCode) as string[];
    for (const c of codes) expect(doc, c).toContain(`| \`${c}\` |`);
    for (const m of doc.matchAll(/MMS_ERR_ICAP_[A-Z_]+/g)) expect(codes, m[0]).toContain(m[0]);
  });
});
