/**
 * CONTRACT §10: `node apps/proxy/dist/main.js` with the standard OTEL_* variables exports one trace per
 * message over OTLP/HTTP (JSON here, to a receiver in this file), and the upstream sees the trace's
 * `traceparent`. Without an endpoint no OpenTelemetry module is loaded at all.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { get, post } from './harness.js';
import { zipSync } from 'fflate';
import { postMm7, submitReq } from './mm7-submit.js';
import { eicar, part, retrieveConfOf, sendReq, text } from './pdus.js';

const MAIN = resolve(fileURLToPath(import.meta.url), '../../apps/proxy/dist/main.js');

/**
 * Preloaded into the proxy: on exit, prints how many OpenTelemetry SDK modules (@opentelemetry/* but the api,
 * @fastify/otel) the process loaded. CJS packages imported from ESM still land in the require cache, and all
 * of those are CJS. @opentelemetry/api is not counted: prom-client loads it in any case (exemplars), and it
 * is a no-op without an SDK.
 */
const PROBE = join(tmpdir(), `mmsguard-otel-probe-${process.pid}.cjs`);
writeFileSync(PROBE, [
  "const sdk = /[\\\\/]node_modules[\\\\/](@opentelemetry[\\\\/](?!api[\\\\/])|@fastify[\\\\/]otel[\\\\/])/;",
  "process.on('exit', () => {",
  "  const n = Object.keys(require.cache).filter((k) => sdk.test(k)).length;",
  "  process.stderr.write('otel-modules=' + n + '\\n');",
  '});',
].join('\n'));
afterAll(() => rmSync(PROBE, { force: true }));

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: { key: string; value: Record<string, unknown> }[];
}

interface Exported {
  service: string | undefined;
  spans: OtlpSpan[];
}

const SERVER = 2;
const CLIENT = 3;

function attr(s: OtlpSpan, key: string): unknown {
  const v = s.attributes.find((a) => a.key === key)?.value;
  return v === undefined ? undefined : Object.values(v)[0];
}

function listen(server: Server): Promise<string> {
  return new Promise((res) => server.listen(0, '127.0.0.1', () => {
    const a = server.address();
    res(`http://127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}`);
  }));
}

/** An OTLP/HTTP receiver for the JSON protocol: every span posted to /v1/traces, with its service name. */
async function otlpReceiver(): Promise<{ url: string; got: Exported[]; paths: string[]; server: Server }> {
  const got: Exported[] = [];
  const paths: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      paths.push(`${req.method ?? ''} ${req.url ?? ''} ${req.headers['content-type'] ?? ''}`);
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        resourceSpans: { resource: { attributes: OtlpSpan['attributes'] }; scopeSpans: { spans: OtlpSpan[] }[] }[];
      };
      for (const rs of body.resourceSpans) {
        const service = rs.resource.attributes.find((a) => a.key === 'service.name')?.value['stringValue'];
        got.push({ service: service as string | undefined, spans: rs.scopeSpans.flatMap((s) => s.spans) });
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  return { url: await listen(server), got, paths, server };
}

/** m-send-conf, Response-Status Ok: what the MMSC answers, whatever it was sent. */
const SEND_CONF = Buffer.from([0x8c, 0x81, 0x98, ...Buffer.from('T\0'), 0x8d, 0x90, 0x92, 0x80]);

/**
 * The MMSC: records the headers of every request; answers a POST with m-send-conf (hanging up on transaction
 * T-otel-fail) and a GET with a clean m-retrieve-conf.
 */
async function recordingUpstream(): Promise<{ url: string; seen: IncomingHttpHeaders[]; server: Server }> {
  const seen: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers);
    const body: Buffer[] = [];
    req.on('data', (c: Buffer) => body.push(c));
    req.on('end', () => {
      const mms = { 'content-type': 'application/vnd.wap.mms-message' };
      if (req.method === 'GET') res.writeHead(200, mms).end(retrieveConfOf(sendReq([text('hi')], 'T-otel-get')));
      else if (Buffer.concat(body).includes('T-otel-fail')) req.socket.destroy();
      else res.writeHead(200, { 'content-type': 'application/vnd.wap.mms-message' }).end(SEND_CONF);
    });
  });
  return { url: await listen(server), seen, server };
}

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const f of cleanup.splice(0)) f();
});

async function startProxy(env: Record<string, string>): Promise<{
  base: string; mm7: string | null; admin: string; child: ChildProcess; exited: Promise<number | null>;
  stderr: () => string;
}> {
  const child = spawn(process.execPath, ['--require', PROBE, MAIN], {
    env: {
      PATH: process.env['PATH'] ?? '', HOST: '127.0.0.1', MM1_PORT: '0', ADMIN_PORT: '0', SIM_PORT: '0', ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  cleanup.push(() => child.kill('SIGKILL'));
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  for (let i = 0; i < 150 && !out.includes('admin on'); i++) await new Promise((r) => setTimeout(r, 100));
  const m = /MM1 proxy listening on (http:\/\/[\d.:]+)/.exec(out);
  const a = /admin on (http:\/\/[\d.:]+)/.exec(out);
  if (m === null || a === null) throw new Error(`proxy did not start: ${out}${err}`);
  const mm7 = /MM7 proxy listening on (http:\/\/[\d.:]+)/.exec(out)?.[1] ?? null;
  return { base: m[1]!, mm7, admin: a[1]!, child, exited, stderr: () => err };
}

/** Every descendant of `root` in its trace, by span name. */
function descendants(spans: readonly OtlpSpan[], root: OtlpSpan): OtlpSpan[] {
  const out: OtlpSpan[] = [];
  const walk = (id: string): void => {
    for (const s of spans.filter((x) => x.parentSpanId === id)) {
      out.push(s);
      walk(s.spanId);
    }
  };
  walk(root.spanId);
  return out;
}

describe('OpenTelemetry tracing (OTEL_EXPORTER_OTLP_ENDPOINT)', () => {
  it('one trace per message: server span → decode, scan per engine, policy, upstream with traceparent', async () => {
    const otlp = await otlpReceiver();
    const mmsc = await recordingUpstream();
    cleanup.push(() => otlp.server.close(), () => mmsc.server.close());
    const p = await startProxy({
      MM1_UPSTREAM_URL: mmsc.url, MM7_UPSTREAM_URL: mmsc.url, MM7_PORT: '0',
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      // Nothing is exported on a timer during the test: what arrives was flushed by the shutdown.
      OTEL_BSP_SCHEDULE_DELAY: '600000',
      // Duplicate counting on (it only logs), so each message also has its bulk check.
      DUPE_THRESHOLDS: '100/60:log',
    });
    const clientTrace = '0af7651916cd43dd8448eb211c80319c';
    const clean = await post(p.base, sendReq([text('hello')], 'T-otel-clean'), {
      traceparent: `00-${clientTrace}-b7ad6b7169203331-01`,
    });
    expect(clean.status).toBe(200);
    const blocked = await post(p.base, sendReq([eicar()], 'T-otel-eicar'));
    expect(blocked.status).toBe(200);
    // An MMSC that hangs up: the upstream call fails and the message's action is `error`.
    await post(p.base, sendReq([text('again')], 'T-otel-fail'));
    // 150 archive members, each scanned: only the first 100 scans of the engine get a span.
    const members = Object.fromEntries([...Array(150).keys()].map((i) => [`f${i}.txt`, Buffer.from(`member ${i}`)]));
    await post(p.base, sendReq([part('many.zip', zipSync(members), 'application/zip')], 'T-otel-zip'));
    // A download (MM1 retrieve): the upstream GET is in the trace too.
    expect((await get(p.base, '/mms/abc')).status).toBe(200);
    // MM7 goes through the same pipeline, so its trace has the same shape.
    const vasp = submitReq({
      vaspId: 'v1', tid: 'T-otel-mm7',
      attachments: [{ name: 'eicar.com', type: 'application/octet-stream', data: eicar().data }],
    });
    expect((await postMm7(p.mm7!, vasp)).status).toBe(500);
    expect((await fetch(`${p.admin}/metrics`)).status).toBe(200);
    expect(mmsc.seen).toHaveLength(4);
    expect(otlp.got).toHaveLength(0);
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    expect(p.stderr()).toMatch(/otel-modules=[1-9]/);

    expect(otlp.paths.every((x) => x.startsWith('POST /v1/traces application/json'))).toBe(true);
    expect(new Set(otlp.got.map((g) => g.service))).toEqual(new Set(['mmsguard']));
    const spans = otlp.got.flatMap((g) => g.spans);
    const servers = spans.filter((s) => s.kind === SERVER);
    // Six messages, six server spans, six traces; nothing else made one (the admin port is not traced).
    expect(servers).toHaveLength(6);
    expect(new Set(spans.map((s) => s.traceId)).size).toBe(6);

    const byTid = (tid: string): OtlpSpan => {
      const s = servers.find((x) => attr(x, 'mms.transaction_id') === tid);
      expect(s, tid).toBeDefined();
      return s!;
    };
    const cleanRoot = byTid('T-otel-clean');
    const eicarRoot = byTid('T-otel-eicar');
    const failRoot = byTid('T-otel-fail');
    const zipRoot = byTid('T-otel-zip');
    const mm7Root = byTid('T-otel-mm7');
    const getRoot = byTid('T-otel-get');
    expect(attr(getRoot, 'mms.message_type')).toBe('m-retrieve-conf');
    expect(attr(getRoot, 'mmsguard.action')).toBe('forwarded');
    const download = descendants(spans, getRoot).filter((s) => s.kind === CLIENT);
    expect(download).toHaveLength(1);
    expect(mmsc.seen[3]!['traceparent']).toBe(`00-${getRoot.traceId}-${download[0]!.spanId}-01`);
    for (const root of [cleanRoot, eicarRoot, failRoot, zipRoot, mm7Root]) {
      expect(attr(root, 'mms.message_type')).toBe(root === mm7Root ? 'SubmitReq' : 'm-send-req');
      expect(attr(root, 'mmsguard.service')).toBe(root === mm7Root ? 'MM7' : 'MM1');
      const below = descendants(spans, root);
      // One trace per message: every span of the trace hangs under its server span.
      expect(below.length).toBe(spans.filter((s) => s.traceId === root.traceId).length - 1);
      const names = below.map((s) => s.name);
      for (const n of ['decode', 'bulk', 'scan', 'scan builtin', 'policy']) expect(names, n).toContain(n);
      const scan = below.find((s) => s.name === 'scan')!;
      const engine = below.find((s) => s.name === 'scan builtin')!;
      expect(engine.parentSpanId).toBe(scan.spanId);
      expect(attr(engine, 'mmsguard.engine')).toBe('builtin');
    }
    expect(attr(cleanRoot, 'mmsguard.action')).toBe('forwarded');
    expect(attr(eicarRoot, 'mmsguard.action')).toBe('blocked');
    expect(attr(mm7Root, 'mmsguard.action')).toBe('blocked');
    expect(attr(failRoot, 'mmsguard.action')).toBe('error');
    expect(descendants(spans, failRoot).filter((s) => s.kind === CLIENT)).toHaveLength(1);
    expect(attr(zipRoot, 'mmsguard.action')).toBe('forwarded');
    expect(descendants(spans, zipRoot).filter((s) => s.name === 'scan builtin')).toHaveLength(100);
    const infected = descendants(spans, eicarRoot).filter((s) => s.name === 'scan builtin');
    expect(infected.map((s) => attr(s, 'mmsguard.scan.outcome'))).toContain('infected');
    // The client's trace context is the parent of ours.
    expect(cleanRoot.traceId).toBe(clientTrace);
    expect(cleanRoot.parentSpanId).toBe('b7ad6b7169203331');

    // The upstream call: a client span in the clean message's trace, and its context is what the MMSC got.
    const upstream = descendants(spans, cleanRoot).filter((s) => s.kind === CLIENT);
    expect(upstream).toHaveLength(1);
    expect(descendants(spans, eicarRoot).filter((s) => s.kind === CLIENT)).toHaveLength(0);
    const tp = mmsc.seen[0]!['traceparent'];
    expect(tp).toBe(`00-${cleanRoot.traceId}-${upstream[0]!.spanId}-01`);
  });

  it('no endpoint: no OpenTelemetry SDK module loaded, the client traceparent forwarded untouched', async () => {
    const mmsc = await recordingUpstream();
    cleanup.push(() => mmsc.server.close());
    const p = await startProxy({ MM1_UPSTREAM_URL: mmsc.url });
    const tp = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    expect((await post(p.base, sendReq([text('hello')]), { traceparent: tp })).status).toBe(200);
    expect(mmsc.seen[0]!['traceparent']).toBe(tp);
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    expect(p.stderr()).toContain('otel-modules=0\n');
  });

  it('refuses an exporter protocol it cannot speak: one stderr line, exit 2', async () => {
    const child = spawn(process.execPath, [MAIN], {
      env: {
        PATH: process.env['PATH'] ?? '', MM1_PORT: '0', ADMIN_PORT: '0', SIM_PORT: '0',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    expect(code).toBe(2);
    expect(err.trim().split('\n')).toEqual([expect.stringContaining('OTEL_EXPORTER_OTLP_PROTOCOL')]);
  });
});
