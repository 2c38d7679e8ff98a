/**
 * The OpenTelemetry SDK, loaded by tracing.ts only when an OTLP endpoint is
 * configured (nothing imports this module statically). One NodeTracerProvider
 * with a batch processor and the OTLP/HTTP exporter the standard OTEL_*
 * variables choose (endpoint, headers, timeout, protocol, OTEL_BSP_*,
 * OTEL_TRACES_SAMPLER); @fastify/otel makes the server span of every traffic
 * request, the undici instrumentation the span of the upstream call and its
 * `traceparent`. Both listen on diagnostics channels (`fastify.initialization`,
 * `undici:request:*`) rather than patching modules, so they instrument fastify
 * and undici however and whenever those were imported, as long as this runs
 * before the first Fastify() and the first upstream request: main.ts starts it
 * before building anything.
 */
import { SpanStatusCode, trace, type Span, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { FastifyOtelInstrumentation } from '@fastify/otel';
import type { ScanEngine } from '@mmsguard/scan';
import { setSpans, type SpanAttrs, type SpanHandle, type Spans } from './spans.js';
import type { Tracing } from './tracing.js';

/**
 * Admin listener paths: probes and scrapes every few seconds would bury the message traces. The traffic
 * listeners take any path, so a handset request to one of these goes untraced; none has a reason to.
 */
const ADMIN_PATH = /^\/(healthz|readyz|metrics|bulk)(\/|\?|$)/;

function handle(span: Span): SpanHandle {
  return { setAttributes: (a) => void span.setAttributes(a) };
}

function failed(span: Span, e: unknown): void {
  const err = e instanceof Error ? e : new Error(String(e));
  span.recordException(err);
  span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
}

function run<T>(tracer: Tracer, name: string, attrs: SpanAttrs, f: (s: SpanHandle) => T): T {
  return tracer.startActiveSpan(name, { attributes: attrs }, (span) => {
    let r: T;
    try {
      r = f(handle(span));
    } catch (e) {
      failed(span, e);
      span.end();
      throw e;
    }
    if (!(r instanceof Promise)) {
      span.end();
      return r;
    }
    return r.then(
      (v: unknown) => {
        span.end();
        return v;
      },
      (e: unknown) => {
        failed(span, e);
        span.end();
        throw e;
      },
    ) as T;
  });
}

/**
 * Engine spans per engine and message at most: the members of one archive (up to 1000 per target, each in
 * several forms) would otherwise fill the export queue (OTEL_BSP_MAX_QUEUE_SIZE) with one message's spans
 * and crowd out every other message's. The scan span's duration still covers the scans left untraced.
 */
const ENGINE_SPANS_PER_MESSAGE = 100;

function tracedEngine(tracer: Tracer, e: ScanEngine): ScanEngine {
  let left = ENGINE_SPANS_PER_MESSAGE;
  return {
    name: e.name,
    ready: (signal) => e.ready(signal),
    ...(e.describe !== undefined ? { describe: (signal: AbortSignal) => e.describe!(signal) } : {}),
    scan: (target, signal) => left-- <= 0 ? e.scan(target, signal) : run(tracer, `scan ${e.name}`, {
      'mmsguard.engine': e.name, 'mmsguard.scan.target': target.path, 'mmsguard.scan.bytes': target.data.length,
    }, async (s) => {
      const o = await e.scan(target, signal);
      const virus = o.kind === 'infected' ? { 'mmsguard.virus': o.name } : {};
      s.setAttributes({ 'mmsguard.scan.outcome': o.kind, ...virus });
      return o;
    }),
    close: () => e.close(),
  };
}

/** The exporter OTEL_EXPORTER_OTLP_TRACES_PROTOCOL / OTEL_EXPORTER_OTLP_PROTOCOL name (spec default http/protobuf). */
function exporterFor(env: NodeJS.ProcessEnv): JsonExporter | ProtoExporter {
  const protocol = (env['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'] || env['OTEL_EXPORTER_OTLP_PROTOCOL'] || 'http/protobuf')
    .trim();
  if (protocol === 'http/json') return new JsonExporter();
  if (protocol === 'http/protobuf') return new ProtoExporter();
  throw new Error(`OTEL_EXPORTER_OTLP_PROTOCOL: ${protocol} is not supported (http/protobuf or http/json)`);
}

export function startOtel(env: NodeJS.ProcessEnv): Tracing {
  const exporter = exporterFor(env);
  // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win over our default name (envDetector reads both).
  const resource = defaultResource()
    .merge(resourceFromAttributes({ 'service.name': 'mmsguard' }))
    .merge(detectResources({ detectors: [envDetector] }));
  const provider = new NodeTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(exporter)] });
  // The AsyncLocalStorage context manager and the W3C trace-context + baggage propagators.
  provider.register();
  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new UndiciInstrumentation(),
      new FastifyOtelInstrumentation({
        registerOnInitialization: true, ignorePaths: (r) => ADMIN_PATH.test(r.url),
      }),
    ],
  });
  const tracer = trace.getTracer('mmsguard');
  const spans: Spans = {
    on: true,
    run: (name, attrs, f) => run(tracer, name, attrs, f),
    request(req) {
      const otel = (req as { opentelemetry?: () => { span?: Span | null } }).opentelemetry?.();
      return otel?.span != null ? handle(otel.span) : { setAttributes: () => undefined };
    },
    engines: (list) => list.map((e) => tracedEngine(tracer, e)),
  };
  setSpans(spans);
  return {
    async shutdown() {
      // Ends the batch processor: what is queued is exported (within OTEL_EXPORTER_OTLP_TIMEOUT).
      await provider.shutdown();
    },
  };
}
