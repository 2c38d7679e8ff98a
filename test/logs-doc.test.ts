import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Metrics } from '../apps/proxy/src/metrics.js';

describe('docs/logs.md', () => {
  it('lists exactly the mmsguard metrics the proxy exports', async () => {
    const doc = readFileSync(resolve(fileURLToPath(import.meta.url), '../../docs/logs.md'), 'utf8');
    const documented = [...doc.matchAll(/^\| `(mmsguard_[a-z_]+)` \|/gm)].map((m) => m[1]);
    const exported = (await new Metrics().registry.getMetricsAsJSON()).map((m) => m.name).filter((n) => n.startsWith('mmsguard_'));
    expect(documented.sort()).toEqual(exported.sort());
  });
});
