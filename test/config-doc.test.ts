import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES } from '../apps/proxy/src/config.js';
import { TEMPLATE_DEFAULTS } from '../apps/proxy/src/templates.js';
import { TRACING_VARIABLES } from '../apps/proxy/src/tracing.js';

describe('docs/config.md', () => {
  it('lists exactly the variables the proxy reads (ours, and the OpenTelemetry ones it documents)', () => {
    const doc = readFileSync(resolve(fileURLToPath(import.meta.url), '../../docs/config.md'), 'utf8');
    const documented = new Set([...doc.matchAll(/^\| `([A-Z0-9_]+)`(?:, `([A-Z0-9_]+)`)? \|/gm)].flatMap((m) => [m[1], m[2]]).filter((x): x is string => x !== undefined));
    expect([...documented].sort()).toEqual([...CONFIG_VARIABLES, ...TRACING_VARIABLES].sort());
  });

  it('lists every reply template with its default', () => {
    const doc = readFileSync(resolve(fileURLToPath(import.meta.url), '../../docs/config.md'), 'utf8');
    const rows = new Map<string, string>([...doc.matchAll(/^\| `([a-z0-9.-]+)` \| (.*) \|$/gm)].map((m): [string, string] => [m[1] ?? '', m[2] ?? '']));
    for (const [name, text] of Object.entries(TEMPLATE_DEFAULTS)) expect(rows.get(name), name).toBe(text);
  });
});
