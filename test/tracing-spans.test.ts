/**
 * spans.ts with the SDK started in this process (otel.ts), exporting OTLP/JSON to a receiver here: what
 * the pipeline's span calls record for values, throws and rejections, and how they nest across awaits.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spans } from '../apps/proxy/src/spans.js';
import { startTracing, type Tracing } from '../apps/proxy/src/tracing.js';

interface OtlpSpan {
  spanId: string;
  parentSpanId?: string;
  name: string;
  status?: { code?: number; message?: string };
  events?: { name: string }[];
  attributes: { key: string; value: Record<string, unknown> }[];
}

const got: OtlpSpan[] = [];
let server: Server;
let tracing: Tracing | null;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const j = JSON.parse(body) as { resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[] };
      for (const rs of j.resourceSpans) for (const ss of rs.scopeSpans) got.push(...ss.spans);
      res.end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  // The exporter reads the endpoint from the process environment, as it does in main.ts.
  process.env['OTEL_EXPORTER_OTLP_ENDPOINT'] = `http://127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}`;
  process.env['OTEL_EXPORTER_OTLP_PROTOCOL'] = 'http/json';
  tracing = await startTracing(process.env);
});

afterAll(() => {
  delete process.env['OTEL_EXPORTER_OTLP_ENDPOINT'];
  delete process.env['OTEL_EXPORTER_OTLP_PROTOCOL'];
  server.close();
});

const byName = (n: string): OtlpSpan => {
  const s = got.find((x) => x.name === n);
  expect(s, n).toBeDefined();
  return s!;
};

describe('spans() with the SDK on', () => {
  it('records values, throws and rejections, and nests spans across awaits', async () => {
    expect(tracing).not.toBeNull();
    const s = spans();
    expect(s.on).toBe(true);
    expect(s.run('sync-ok', { 'mmsguard.bytes': 3 }, () => 42)).toBe(42);
    expect(() => s.run('sync-throw', {}, () => {
      throw new Error('bad pdu');
    })).toThrow('bad pdu');
    await expect(s.run('async-reject', {}, async () => {
      await new Promise((r) => setTimeout(r, 5));
      throw new Error('engine gone');
    })).rejects.toThrow('engine gone');
    const inner = await s.run('outer', {}, async (h) => {
      await new Promise((r) => setTimeout(r, 5));
      h.setAttributes({ 'mmsguard.action': 'blocked' });
      return s.run('inner', {}, () => Promise.resolve('done'));
    });
    expect(inner).toBe('done');
    // No server span around these calls: the request handle is a no-op, not a throw.
    expect(() => s.request({}).setAttributes({ 'mmsguard.action': 'x' })).not.toThrow();
    await tracing!.shutdown();

    expect(byName('sync-ok').status?.code ?? 0).toBe(0);
    expect(byName('sync-ok').attributes).toContainEqual({ key: 'mmsguard.bytes', value: { intValue: 3 } });
    for (const [n, msg] of [['sync-throw', 'bad pdu'], ['async-reject', 'engine gone']] as const) {
      expect(byName(n).status).toMatchObject({ code: 2, message: msg });
      expect(byName(n).events?.map((e) => e.name)).toContain('exception');
    }
    expect(byName('inner').parentSpanId).toBe(byName('outer').spanId);
    expect(byName('outer').attributes).toContainEqual({ key: 'mmsguard.action', value: { stringValue: 'blocked' } });
  });
});
