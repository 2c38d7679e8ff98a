/**
 * deploy/grafana/mmsguard.json queries only metrics a real proxy exports: every metric name in every
 * panel's PromQL (histogram series mapped to their family) must appear as a `# TYPE` family in a
 * `/metrics` scrape of a proxy that has handled a clean and a blocked message. A renamed metric
 * breaks this test instead of an operator's dashboard.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eicarBytes } from '@mmsguard/scan';
import { post, startStack, type Stack } from './harness.js';
import { part, sendReq } from './pdus.js';

const DASHBOARD = new URL('../deploy/grafana/mmsguard.json', import.meta.url);

interface Panel {
  readonly title: string;
  readonly targets?: readonly { readonly expr: string }[];
}

/** Metric names in a PromQL expression: identifiers followed by a selector, a range or a closing paren. */
function metricNames(expr: string): string[] {
  const names = new Set<string>();
  for (const m of expr.matchAll(/\b((?:mmsguard|process|nodejs)_[a-z0-9_]+)\b/g)) names.add(m[1] as string);
  return [...names];
}

/** The family a series belongs to: histograms export name_bucket/_sum/_count under `# TYPE name histogram`. */
function family(series: string, types: ReadonlyMap<string, string>): string | null {
  if (types.has(series)) return series;
  const base = series.replace(/_(bucket|sum|count)$/, '');
  return types.get(base) === 'histogram' || types.get(base) === 'summary' ? base : null;
}

describe('the Grafana dashboard', () => {
  let s: Stack;
  let scrape = '';
  beforeAll(async () => {
    s = await startStack({ FLOOD_THRESHOLDS: '100/60:block:60' });
    const clean = sendReq([part('a.txt', new TextEncoder().encode('hi'), 'text/plain')], 'graf-clean');
    expect((await post(s.proxy, clean)).status).toBe(200);
    await post(s.proxy, sendReq([part('e.com', eicarBytes())], 'graf-eicar'));
    scrape = await (await fetch(`${s.admin}/metrics`)).text();
  });
  afterAll(async () => s?.close());

  it('queries only metric families a real /metrics scrape has', () => {
    const types = new Map<string, string>();
    for (const m of scrape.matchAll(/^# TYPE (\S+) (\S+)$/gm)) types.set(m[1] as string, m[2] as string);
    expect(types.size).toBeGreaterThan(10);
    const dash = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
      panels: Panel[]; templating: { list: { name: string; query?: { query?: string } | string }[] };
    };
    const queried = dash.panels.flatMap((p) => (p.targets ?? []).flatMap((t) => metricNames(t.expr).map((n) => [p.title, n])));
    // The instance picker's query counts too: a dashboard with an empty picker shows nothing.
    for (const v of dash.templating.list) {
      for (const n of metricNames(typeof v.query === 'object' ? (v.query.query ?? '') : '')) queried.push([`$${v.name}`, n]);
    }
    expect(queried.length).toBeGreaterThanOrEqual(dash.panels.length);
    const missing = queried.filter(([, n]) => family(n as string, types) === null).map(([t, n]) => `${t}: ${n}`);
    expect(missing).toEqual([]);
  });

  it('finds the message counters it graphs filled in after traffic', () => {
    expect(scrape).toMatch(/^mmsguard_messages_total\{[^}]*action="forwarded"[^}]*\} 1$/m);
    expect(scrape).toMatch(/^mmsguard_messages_total\{[^}]*action="blocked"[^}]*subtype="virus"[^}]*\} 1$/m);
  });
});
