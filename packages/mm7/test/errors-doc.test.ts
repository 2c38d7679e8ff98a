/** packages/mm7/src/errors.ts is a contract: docs/mm7-quirks.md names every code, and no code that does not exist. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Mm7ErrorCode, Mm7UnscannableCode } from '../src/index.js';

const DOC = fileURLToPath(new URL('../../../docs/mm7-quirks.md', import.meta.url));

describe('docs/mm7-quirks.md', () => {
  it('documents every MM7 code, and no MM7 code that does not exist', () => {
    const doc = readFileSync(DOC, 'utf8');
    const documented = new Set([...doc.matchAll(/`(MMS_ERR_MM7_[A-Z_]+)`/g)].map((m) => m[1]));
    const codes = new Set<string>([...Object.values(Mm7ErrorCode), ...Object.values(Mm7UnscannableCode)]);
    for (const c of codes) expect(documented.has(c), c).toBe(true);
    for (const d of documented) expect(codes.has(d ?? ''), d).toBe(true);
  });
});
