/**
 * The log records of CONTRACT §5: one `event=verdict` per message and one
 * `type=utm` per blocked or monitored part, in FortiOS UTM vocabulary.
 */
import type { EventRole, LogAction, Subtype } from '@mmsguard/policy';
import type { Finding } from '@mmsguard/scan';

export type UtmSubtype = Subtype | 'flood' | 'dupe' | 'msisdn-filter' | 'vasp-quota';

/**
 * Something a check found, kept on the exchange until the outcome is final: its UTM `action` is
 * derived from that outcome (policy `eventAction`), so a record cannot contradict the verdict.
 */
export interface UtmEvent {
  readonly subtype: UtmSubtype;
  readonly role: EventRole;
  readonly part: UtmPart;
  readonly finding: Finding | null;
  readonly note?: string;
  /** Flood/duplicate thresholds say themselves whether to alert; undefined: alert on blocking events. */
  readonly alert?: boolean;
}

export const NO_PART: UtmPart = Object.freeze({ filename: null, filetype: null, filesize: null, sha256: null });

/** logid, eventtype, level and msg per subtype (FortiOS ids where FortiOS has one: virus, file-filter). */
const UTM: Record<UtmSubtype, { logid: string; eventtype: string; level: string; msg: string }> = {
  virus: { logid: '0211008194', eventtype: 'infected', level: 'warning', msg: 'MMS attachment is infected.' },
  'file-filter': {
    logid: '1900064000', eventtype: 'file-filter', level: 'warning', msg: 'File was blocked by file filter.',
  },
  oversize: {
    logid: '0211008195', eventtype: 'oversize', level: 'warning', msg: 'MMS message exceeds the oversize limit.',
  },
  malformed: {
    logid: '0211008196', eventtype: 'malformed', level: 'warning', msg: 'MMS message could not be decoded.',
  },
  'scan-error': { logid: '0211008197', eventtype: 'scan-error', level: 'error', msg: 'Scan engine failed.' },
  unscannable: {
    logid: '0211008198', eventtype: 'unscannable', level: 'warning',
    msg: 'Content could not be scanned (archive limit).',
  },
  flood: { logid: '0208020492', eventtype: 'mass-mms', level: 'warning', msg: 'Sender exceeded the flood threshold.' },
  dupe: {
    logid: '0208020493', eventtype: 'mass-mms', level: 'warning', msg: 'Message exceeded the duplicate threshold.',
  },
  'msisdn-filter': {
    logid: '0208020494', eventtype: 'msisdn-filter', level: 'notice',
    msg: 'Sender or recipient matched an MSISDN list.',
  },
  // A volume limit like flood and dupe (eventtype mass-mms), kept by contract per VASP (MM7_VASP_LIMITS).
  'vasp-quota': {
    logid: '0208020495', eventtype: 'mass-mms', level: 'warning', msg: 'VASP exceeded its message quota.',
  },
};

export interface Session {
  readonly service: 'MM1' | 'MM7';
  direction: 'outgoing' | 'incoming';
  readonly sessionid: number;
  readonly srcip: string;
  readonly srcport: number;
  readonly dstip: string;
  readonly dstport: number;
  msgtype: string | null;
  transactionid: string | null;
  /** The MMSC's id of the message (docs/logs.md says which header or element names it); null until known. */
  messageid: string | null;
  from: string | null;
  to: string | null;
}

export interface UtmPart {
  readonly filename: string | null;
  readonly filetype: string | null;
  readonly filesize: number | null;
  readonly sha256: string | null;
}

/** The UTM `dtype` of an infection: which engine saw it (FortiOS names its AV engine `av-engine`). */
const AV_DTYPE: ReadonlyMap<string, string> = new Map([['clamd', 'av-engine-clamd'], ['icap', 'av-engine-icap']]);

function detail(f: Finding | null): { virus: string | null; dtype: string | null; extra: string | null } {
  if (f === null) return { virus: null, dtype: null, extra: null };
  switch (f.kind) {
    case 'infected':
      return { virus: f.name, dtype: AV_DTYPE.get(f.engine) ?? 'av-engine', extra: f.path };
    case 'file-type':
      return { virus: null, dtype: 'file-type', extra: `${f.path}: ${f.type}` };
    case 'unscannable':
      return { virus: null, dtype: 'archive', extra: `${f.path}: ${f.reason}` };
    case 'error':
      return { virus: null, dtype: f.engine, extra: `${f.path}: ${f.code}` };
  }
}

export function utmRecord(
  s: Session, subtype: UtmSubtype, action: LogAction, part: UtmPart, finding: Finding | null, note?: string,
): Record<string, unknown> {
  const u = UTM[subtype];
  const d = detail(finding);
  return {
    logid: u.logid, type: 'utm', subtype, eventtype: u.eventtype, level: u.level, action,
    service: s.service, direction: s.direction, srcip: s.srcip, srcport: s.srcport, dstip: s.dstip,
    dstport: s.dstport, sessionid: s.sessionid, msgtype: s.msgtype, transactionid: s.transactionid,
    messageid: s.messageid, from: s.from, to: s.to, filename: part.filename, filetype: part.filetype,
    filesize: part.filesize, virus: d.virus, dtype: d.dtype, analyticscksum: part.sha256,
    msg: note !== undefined ? `${u.msg} ${note}` : d.extra !== null ? `${u.msg} ${d.extra}` : u.msg,
  };
}

export interface VerdictFields {
  action: string;
  subtype?: string | null;
  reason?: string;
  parts?: number;
  bytes?: number;
  ms: number;
  status?: number;
  /** Comforting: whether bytes had gone out before the verdict, and how many. */
  comfort_started?: boolean;
  comfort_bytes?: number;
  /** MM7 client comforting: `102 Processing` interim responses sent while the client waited. */
  client_comfort_interim?: number;
}

export function verdictRecord(s: Session, fields: VerdictFields): Record<string, unknown> {
  return {
    event: 'verdict', service: s.service, direction: s.direction, sessionid: s.sessionid, srcip: s.srcip,
    srcport: s.srcport, dstip: s.dstip, dstport: s.dstport, msgtype: s.msgtype, transactionid: s.transactionid,
    messageid: s.messageid, from: s.from, to: s.to, action: fields.action, subtype: fields.subtype ?? null,
    reason: fields.reason ?? null, parts: fields.parts ?? 0, bytes: fields.bytes ?? 0,
    duration_ms: Math.round(fields.ms * 10) / 10, status: fields.status ?? null,
    ...(fields.comfort_started !== undefined
      ? { comfort_started: fields.comfort_started, comfort_bytes: fields.comfort_bytes ?? 0 }
      : {}),
    ...(fields.client_comfort_interim !== undefined ? { client_comfort_interim: fields.client_comfort_interim } : {}),
  };
}
