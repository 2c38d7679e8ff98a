/** CLAMD_ADDRESS: `tcp://host:port` or `unix:/path`, comma-separated for failover (tried in order). */
import { ClamdError, ClamdErrorCode } from './errors.js';

export type ClamdAddress =
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number }
  | { readonly kind: 'unix'; readonly path: string };

export function parseClamdAddress(s: string): ClamdAddress {
  const v = s.trim();
  if (v.startsWith('unix:')) {
    const path = v.slice(5).replace(/^\/\//, '');
    if (!path.startsWith('/')) {
      throw new ClamdError(ClamdErrorCode.ADDRESS, `unix socket path must be absolute: '${v}'`);
    }
    return { kind: 'unix', path };
  }
  const m = /^tcp:\/\/(\[[^\]]+\]|[^:/]+):(\d{1,5})\/?$/.exec(v);
  if (m === null) throw new ClamdError(ClamdErrorCode.ADDRESS, `expected tcp://host:port or unix:/path, got '${v}'`);
  const port = Number(m[2]);
  if (port < 1 || port > 65535) throw new ClamdError(ClamdErrorCode.ADDRESS, `port out of range in '${v}'`);
  return { kind: 'tcp', host: (m[1] as string).replace(/^\[|\]$/g, ''), port };
}

export function parseClamdAddresses(list: string): ClamdAddress[] {
  const parts = list.split(',').map((x) => x.trim()).filter((x) => x.length > 0);
  if (parts.length === 0) throw new ClamdError(ClamdErrorCode.ADDRESS, 'CLAMD_ADDRESS is empty');
  return parts.map(parseClamdAddress);
}

export function formatAddress(a: ClamdAddress): string {
  return a.kind === 'tcp' ? `tcp://${a.host}:${a.port}` : `unix:${a.path}`;
}
