import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Metrics } from '../apps/proxy/src/metrics.js';

const ROOT = resolve(fileURLToPath(import.meta.url), '../..');
const doc = readFileSync(join(ROOT, 'docs/logs.md'), 'utf8');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [readFileSync(join(dir, e.name), 'utf8')] : []));
}

describe('docs/logs.md', () => {
  it('lists exactly the mmsguard metrics the proxy exports', async () => {
    const documented = [...doc.matchAll(/^\| `(mmsguard_[a-z_]+)` \|/gm)].map((m) => m[1]);
    const exported = (await new Metrics().registry.getMetricsAsJSON()).map((m) => m.name).filter((n) => n.startsWith('mmsguard_'));
    expect(documented.sort()).toEqual(exported.sort());
  });

  it('lists every operational event the proxy logs', () => {
    const src = sources(join(ROOT, 'apps/proxy/src')).join('\n');
    const events = new Set([...src.matchAll(/event: '([a-z-]+)'/g)].map((m) => m[1]!));
    // the watched files log `<variable>-reloaded` / `<variable>-invalid`
    for (const v of src.matchAll(/new WatchedFile(?:<[^>]*>)?\('([A-Z_]+)'/g)) for (const suffix of ['reloaded', 'invalid']) events.add(`${v[1]!.toLowerCase().replace(/_/g, '-')}-${suffix}`);
    events.delete('verdict'); // its own section
    expect(events.size).toBeGreaterThan(5);
    for (const e of events) expect(doc, e).toContain(`\`${e}\``);
  });
});
