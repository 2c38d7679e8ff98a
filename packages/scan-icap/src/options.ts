/**
 * What a service's OPTIONS reply (RFC 3507 §4.10) tells us: the methods it serves, its preview size,
 * its ISTag (the signature/configuration version; it changes when the server's database does), how
 * many connections it takes and how long all this stays valid. It only reads a parsed reply head.
 */
import { IcapError, IcapErrorCode } from './errors.js';
import { field, type IcapReplyHead } from './reply.js';

export type IcapMethod = 'RESPMOD' | 'REQMOD';

export interface IcapServiceOptions {
  /** ISTag without its quotes, or null when the server sent none. */
  readonly istag: string | null;
  readonly methods: readonly IcapMethod[];
  /** Bytes the server wants in a preview; null = no preview (the whole body is sent at once). */
  readonly preview: number | null;
  readonly allow204: boolean;
  /** The server's Max-Connections, or null when it sets none. */
  readonly maxConnections: number | null;
  /** How long these options stay valid (Options-TTL, clamped to the bounds below). */
  readonly ttlMs: number;
  /** The server's Service description, for logs. */
  readonly service: string | null;
}

/** Options-TTL when the server sends none: c-icap's own default (3600 s). */
export const DEFAULT_OPTIONS_TTL_MS = 3_600_000;
/** Floor for Options-TTL: a server saying 0 would otherwise double every scan with an OPTIONS request. */
export const MIN_OPTIONS_TTL_MS = 10_000;
/** Ceiling: a server that changes its preview size or methods is noticed within a day at the latest. */
export const MAX_OPTIONS_TTL_MS = 86_400_000;

/**
 * c-icap's virus_scan makes its ISTag from the MD5 of its engines' signature versions. With no engine
 * loaded (clamd was unreachable when c-icap started) that is the MD5 of nothing, and the service
 * answers 204 — clean — to every request. This ISTag is the only sign of it a client can see.
 */
export const C_ICAP_NO_ENGINE_ISTAG = /^CI0001-1B2M2Y8AsgTpgAmY7PhCfg/;

/** Throws NO_ENGINE for c-icap's engine-less ISTag. */
export function checkIstag(istag: string | null, where: string): void {
  if (istag !== null && C_ICAP_NO_ENGINE_ISTAG.test(istag)) {
    throw new IcapError(IcapErrorCode.NO_ENGINE, `${where}: c-icap has no antivirus engine loaded (ISTag ${istag}); ` +
      'it would answer every scan with 204');
  }
}

function count(v: string | undefined, max: number): number | null {
  if (v === undefined || !/^\d{1,10}$/.test(v.trim())) return null;
  const n = Number(v.trim());
  return n <= max ? n : null;
}

/** ISTag is a quoted string (RFC 3507 §4.7); kept printable and short because it is shown and logged. */
export function parseIstag(v: string | undefined): string | null {
  if (v === undefined) return null;
  const t = v.trim().replace(/^"(.*)"$/, '$1').replace(/[^\x20-\x7e]/g, '?').slice(0, 64);
  return t === '' ? null : t;
}

export function parseOptions(head: IcapReplyHead, where: string): IcapServiceOptions {
  if (head.status !== 200) {
    throw new IcapError(IcapErrorCode.STATUS, `${where}: OPTIONS answered ICAP ${head.status} ${head.reason}`.trim());
  }
  const f = head.fields;
  const listed = field(f, 'methods');
  // Methods is mandatory in an OPTIONS reply; a server that leaves it out is taken to be a RESPMOD service.
  const words = listed === undefined ? ['RESPMOD'] : listed.toUpperCase().split(/[\s,]+/);
  const methods = (['RESPMOD', 'REQMOD'] as const).filter((m) => words.includes(m));
  if (methods.length === 0) {
    throw new IcapError(IcapErrorCode.METHOD, `${where}: the service offers neither RESPMOD nor REQMOD ('${listed}')`);
  }
  const ttl = count(field(f, 'options-ttl'), 1e9);
  const ttlMs = ttl === null
    ? DEFAULT_OPTIONS_TTL_MS
    : Math.min(MAX_OPTIONS_TTL_MS, Math.max(MIN_OPTIONS_TTL_MS, ttl * 1000));
  const maxConnections = count(field(f, 'max-connections'), 1e6);
  const istag = parseIstag(field(f, 'istag'));
  checkIstag(istag, where);
  return {
    istag,
    methods,
    preview: count(field(f, 'preview'), 2 ** 31 - 1),
    allow204: /\b204\b/.test((f.get('allow') ?? []).join(',')),
    maxConnections: maxConnections === 0 ? null : maxConnections,
    ttlMs,
    service: field(f, 'service')?.replace(/[^\x20-\x7e]/g, '?').slice(0, 200) ?? null,
  };
}
