/**
 * Who a request comes from, and what of it may travel upstream. The MSISDN
 * header is believed only from a configured WAP gateway (anyone could set
 * it); from anyone else it is dropped before the request goes on, so the
 * MMSC cannot be fooled either.
 */
import type { FastifyRequest } from 'fastify';
import type { ProxyContext } from '../context.js';
import { forwardHeaders } from '../upstream.js';

function clientAddress(req: FastifyRequest): string {
  return (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
}

export function isTrustedGateway(ctx: ProxyContext, req: FastifyRequest): boolean {
  return ctx.config.isTrustedGateway(clientAddress(req));
}

/** The MSISDN header, believed only from a configured WAP gateway; null otherwise. */
export function trustedMsisdn(ctx: ProxyContext, req: FastifyRequest): string | null {
  const v = req.headers[ctx.config.msisdnHeader];
  if (typeof v !== 'string') return null;
  if (!ctx.config.isTrustedGateway(clientAddress(req))) return null;
  if (ctx.config.msisdnEncoding === 'plain') return v;
  const decoded = decodeHexMsisdn(v);
  if (decoded === null) {
    ctx.log.warn({
      event: 'bad-msisdn-header', header: ctx.config.msisdnHeader,
      msg: 'MSISDN header is not hex-encoded printable ASCII: treated as absent',
    });
  }
  return decoded;
}

/** `2b3437...` → `+47...`; null unless whole bytes of printable ASCII (some gateways hex-encode the MSISDN). */
export function decodeHexMsisdn(v: string): string | null {
  const t = v.trim();
  if (!/^(?:[0-9a-f]{2})+$/i.test(t)) return null;
  const s = Buffer.from(t, 'hex').toString('latin1');
  return /^[\x21-\x7e]+$/.test(s) ? s : null;
}

/**
 * The path (and query) to request from the upstream, appended to the base path of MM1_UPSTREAM_URL /
 * MM7_UPSTREAM_URL; null when the request target could climb out of that base path. An absolute-form
 * target (`http://host/p`) keeps only its path and query (the upstream is ours to choose). A path with a
 * dot-segment is refused however it is spelled: `..`, `%2e%2e`, `.%2E`, behind an encoded `/` (`%2f`) or a
 * backslash (`\`, `%5c`), because some servers decode or fold those before resolving the path.
 */
export function upstreamPath(target: string): string | null {
  let t = target;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(t)) {
    try {
      const u = new URL(t);
      t = `${u.pathname}${u.search}`;
    } catch {
      return null;
    }
  }
  if (!t.startsWith('/')) return null;
  const q = t.indexOf('?');
  const path = q < 0 ? t : t.slice(0, q);
  const spelled = path.replace(/%2e/gi, '.').replace(/%2f|%5c|\\/gi, '/');
  if (spelled.split('/').some((seg) => seg === '.' || seg === '..')) return null;
  return t;
}

/** A header name as CGI-style servers read it: case and `-`/`_` do not matter (HTTP_X_WAP_…). */
function cgiName(name: string): string {
  return name.toLowerCase().replace(/_/g, '-');
}

/**
 * Upstream request headers. The MSISDN header is forwarded only from a trusted gateway and only under
 * its configured name: every other spelling that a server could read as it (`X_WAP_Network_Client_MSISDN`,
 * underscores for dashes) is dropped from everyone, and any spelling from an untrusted address is dropped
 * and logged.
 */
export function upstreamHeaders(ctx: ProxyContext, req: FastifyRequest): Record<string, string | string[]> {
  const name = ctx.config.msisdnHeader;
  const canonical = cgiName(name);
  const trusted = ctx.config.isTrustedGateway(clientAddress(req));
  const drop = (k: string): boolean => cgiName(k) === canonical && (!trusted || k !== name);
  const dropped = Object.keys(req.headers).filter(drop);
  if (dropped.length > 0) {
    ctx.log.warn({
      event: 'untrusted-msisdn', header: dropped.join(','), srcip: req.socket.remoteAddress ?? '',
      msg: trusted
        ? 'MSISDN header under another spelling than MSISDN_HEADER: ignored and not forwarded'
        : 'MSISDN header from an address that is no trusted gateway: ignored and not forwarded',
    });
  }
  return forwardHeaders(req.headers, req.socket.remoteAddress, drop);
}
