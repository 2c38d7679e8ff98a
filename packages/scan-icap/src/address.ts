/**
 * ICAP_URL: `icap://host[:port]/service[?args]` (RFC 3507 §4.2, port 1344 by default), comma-separated
 * for failover (tried in order, the last one that answered first). The query is kept: c-icap reads
 * service arguments from it (`virus_scan?force=on`). `icaps://` (TLS) is not supported and is refused
 * rather than silently sent in clear text.
 */
import { IcapError, IcapErrorCode } from './errors.js';

export interface IcapAddress {
  readonly host: string;
  readonly port: number;
  /** Path and query as written, starting with `/`: what follows host:port in the request line. */
  readonly service: string;
}

export const DEFAULT_ICAP_PORT = 1344;

// No whitespace or control characters anywhere: the URL is written verbatim into the request line,
// so a CR/LF in it would let a configuration value inject ICAP headers.
const URL_RE = /^icap:\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?::(\d{1,5}))?(\/[\x21-\x7e]*)$/;

export function parseIcapUrl(s: string): IcapAddress {
  const v = s.trim();
  if (/^icaps:/i.test(v)) throw new IcapError(IcapErrorCode.URL, `icaps:// (TLS) is not supported: '${v}'`);
  const m = URL_RE.exec(v);
  if (m === null) throw new IcapError(IcapErrorCode.URL, `expected icap://host:port/service, got '${v}'`);
  const port = m[2] === undefined ? DEFAULT_ICAP_PORT : Number(m[2]);
  if (port < 1 || port > 65535) throw new IcapError(IcapErrorCode.URL, `port out of range in '${v}'`);
  const service = m[3] as string;
  if (service.length < 2 || service.startsWith('/?') || service.includes('#')) {
    throw new IcapError(IcapErrorCode.URL, `no service name in '${v}' (e.g. icap://host:1344/virus_scan)`);
  }
  return { host: (m[1] as string).replace(/^\[|\]$/g, ''), port, service };
}

export function parseIcapUrls(list: string): IcapAddress[] {
  const parts = list.split(',').map((x) => x.trim()).filter((x) => x.length > 0);
  if (parts.length === 0) throw new IcapError(IcapErrorCode.URL, 'ICAP_URL is empty');
  return parts.map(parseIcapUrl);
}

/** `host:port` as it goes into the Host header (IPv6 in brackets). */
export function hostPort(a: IcapAddress): string {
  return `${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;
}

export function formatIcapUrl(a: IcapAddress): string {
  return `icap://${hostPort(a)}${a.service}`;
}
