/**
 * The pipeline's own spans (CONTRACT §10), through an interface that does
 * nothing until tracing.ts has started the OpenTelemetry SDK: this module
 * imports no @opentelemetry package, so with tracing off the pipeline pays a
 * function call per step and loads nothing. The SDK side is otel.ts.
 */
import type { ScanEngine } from '@mmsguard/scan';
import type { Exchange } from './exchange.js';

export type SpanAttrs = Readonly<Record<string, string | number | boolean>>;

export interface SpanHandle {
  setAttributes(a: SpanAttrs): void;
}

export interface Spans {
  /** False for the no-op: callers skip work that only feeds spans. */
  readonly on: boolean;
  /**
   * Runs `f` in a child span of the active one. The span ends when `f` returns, or, when it returns a
   * promise, when that settles; a throw or rejection marks it failed and is passed on unchanged.
   */
  run<T>(name: string, attrs: SpanAttrs, f: (s: SpanHandle) => T): T;
  /** The server span of a fastify request (its root span), or a no-op handle when it has none. */
  request(req: object): SpanHandle;
  /**
   * The engines for one message, each scan call in a span of its own (`scan <engine>`, the first 100 per
   * engine); the same list when off.
   */
  engines(list: readonly ScanEngine[]): readonly ScanEngine[];
}

const NOOP_SPAN: SpanHandle = { setAttributes: () => undefined };

export const NOOP_SPANS: Spans = {
  on: false,
  run: (_name, _attrs, f) => f(NOOP_SPAN),
  request: () => NOOP_SPAN,
  engines: (list) => list,
};

let current: Spans = NOOP_SPANS;

export function spans(): Spans {
  return current;
}

/** Called once by otel.ts when the SDK is up. */
export function setSpans(s: Spans): void {
  current = s;
}

/**
 * The message's attributes, on the server span of its request: a trace is found in the tracing backend
 * by transaction ID, message type or action, whichever span the search matches. Called by Exchange.finish,
 * with the action the verdict record gets (every answer path, `error` and `aborted` included).
 */
export function traceMessage(ex: Exchange, action: string): void {
  if (!current.on) return;
  const e = ex.envelope;
  current.request(ex.req).setAttributes({
    'mmsguard.service': ex.service, 'mmsguard.action': action,
    ...(e?.transactionId != null ? { 'mms.transaction_id': e.transactionId } : {}),
    ...(e?.msgtype != null ? { 'mms.message_type': e.msgtype } : {}),
  });
}
