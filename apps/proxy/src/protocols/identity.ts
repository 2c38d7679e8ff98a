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

/** Upstream request headers; an MSISDN header from an untrusted address is dropped and logged. */
export function upstreamHeaders(ctx: ProxyContext, req: FastifyRequest): Record<string, string | string[]> {
  const name = ctx.config.msisdnHeader;
  const untrusted = req.headers[name] !== undefined && !ctx.config.isTrustedGateway(clientAddress(req));
  if (untrusted) {
    ctx.log.warn({
      event: 'untrusted-msisdn', header: name, srcip: req.socket.remoteAddress ?? '',
      msg: 'MSISDN header from an address that is no trusted gateway: ignored and not forwarded',
    });
  }
  return forwardHeaders(req.headers, req.socket.remoteAddress, untrusted ? name : undefined);
}
