/**
 * The upstream MMSC: one undici keep-alive Pool per origin. Requests keep the
 * original Content-Length (undici then checks the bytes sent against it) and
 * lose hop-by-hop headers; a POST is never retried.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { Pool, errors, type Dispatcher } from 'undici';
import { spans } from './spans.js';

const HOP_BY_HOP = new Set([
  'connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer',
  'transfer-encoding', 'upgrade', 'host', 'content-length', 'expect',
]);

/**
 * Headers for the upstream request. `drop` says which headers the client may not set (an MSISDN header
 * from an address that is no trusted gateway): they are not forwarded, so the MMSC cannot be fooled either.
 */
export function forwardHeaders(
  h: IncomingHttpHeaders, clientIp: string | undefined, drop: (name: string) => boolean = () => false,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const listed = new Set(String(h['connection'] ?? '').toLowerCase().split(',').map((x) => x.trim()));
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined || HOP_BY_HOP.has(k) || listed.has(k) || drop(k)) continue;
    out[k] = v;
  }
  if (clientIp !== undefined) {
    const prior = h['x-forwarded-for'];
    out['x-forwarded-for'] = prior !== undefined ? `${String(prior)}, ${clientIp}` : clientIp;
  }
  return out;
}

export function responseHeaders(h: Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  return out;
}

/** The W3C trace-context and baggage headers the OpenTelemetry propagators write. */
const TRACE_HEADERS = ['traceparent', 'tracestate', 'baggage'];

export type UpstreamFailure = 'connect' | 'reset' | 'timeout' | 'other';

export function classify(e: unknown): UpstreamFailure {
  if (e instanceof errors.ConnectTimeoutError || e instanceof errors.HeadersTimeoutError) return 'timeout';
  if (e instanceof errors.BodyTimeoutError) return 'timeout';
  const code = (e as { code?: string }).code ?? '';
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EHOSTUNREACH') return 'connect';
  if (['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE'].includes(code) || e instanceof errors.SocketError) return 'reset';
  if (['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT'].includes(code)) return 'timeout';
  return 'other';
}

export interface UpstreamRequest {
  readonly method: 'GET' | 'POST';
  /** The client's path (appended to the upstream URL's path), or '' for the upstream URL itself. */
  readonly path: string;
  readonly headers: Record<string, string | string[]>;
  readonly body?: Uint8Array | Readable | null;
  readonly contentLength?: number | null;
  readonly signal?: AbortSignal;
}

export class Upstream {
  private readonly pool: Pool;
  readonly host: string;
  readonly port: number;
  private readonly basePath: string;
  /** The URL's own path and query: where requests of our own go (path ''). */
  private readonly self: string;

  constructor(baseUrl: string, private readonly timeoutMs: number, connections = 1024) {
    const u = new URL(baseUrl);
    this.host = u.hostname;
    this.port = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
    this.basePath = u.pathname.replace(/\/+$/, '');
    this.self = `${u.pathname}${u.search}`;
    this.pool = new Pool(u.origin, {
      connections, pipelining: 1, keepAliveTimeout: 30_000, connectTimeout: Math.min(timeoutMs, 10_000),
    });
  }

  request(r: UpstreamRequest): Promise<Dispatcher.ResponseData> {
    const headers = { ...r.headers };
    if (r.contentLength !== undefined && r.contentLength !== null) headers['content-length'] = String(r.contentLength);
    // Traced, the undici instrumentation adds our own trace context (the client's is the server span's
    // parent): the client's headers would make the MMSC see two.
    if (spans().on) for (const h of TRACE_HEADERS) delete headers[h];
    return this.pool.request({
      method: r.method,
      // '' is the upstream URL itself (a request of our own, like the form's SubmitReq); any other path is the
      // client's, appended to the URL's path.
      path: r.path === '' ? this.self : `${this.basePath}${r.path}`,
      headers,
      body: r.body ?? null,
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
      signal: r.signal ?? null,
    });
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
