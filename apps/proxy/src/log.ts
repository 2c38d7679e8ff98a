/**
 * Logging: pino JSON on stdout, or FortiOS-style `key=value` lines
 * (LOG_FORMAT=kv). One `event=verdict` record per message, one `type=utm`
 * record per blocked or monitored part (CONTRACT §5). Payloads are never
 * logged; MSISDNs can be pseudonymised with a keyed hash.
 *
 * A kv record is exactly one line whatever the values hold: attachment names,
 * subjects and addresses come from senders, and a raw CR or LF in one would let
 * a sender forge a second record (log injection, issue 14 class 16).
 */
import { createHmac } from 'node:crypto';
import { Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import pino, { type Logger } from 'pino';

const KV_ESCAPES: Record<string, string> = { '\\': '\\\\', '"': '\\"', '\n': '\\n', '\r': '\\r', '\t': '\\t' };
// Quote and backslash (the quoting itself), C0 controls, DEL, C1 controls (NEL is a line break to
// some readers) and U+2028/U+2029 (line breaks to others): anything that could end or rewrite a line.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const KV_UNSAFE = /[\\"\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/**
 * A quoted kv value as FortiOS writes one: inside double quotes, `\"` and `\\`; we also write
 * \n \r \t and \xHH (\uHHHH past 0xFF) for every other control character, so the line stays
 * one line and parseKvLine gives the original text back.
 */
export function kvQuote(s: string): string {
  return `"${s.replace(KV_UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    const hex = code.toString(16);
    return KV_ESCAPES[c] ?? (code <= 0xff ? `\\x${hex.padStart(2, '0')}` : `\\u${hex.padStart(4, '0')}`);
  })}"`;
}

function kvValue(v: unknown): string {
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return kvQuote(typeof v === 'string' ? v : JSON.stringify(v));
}

const UNESCAPE: Record<string, string> = { n: '\n', r: '\r', t: '\t', '"': '"', '\\': '\\' };

/** One kv line back to its fields (quoted values unescaped, others as written): for tests and readers. */
export function parseKvLine(line: string): Record<string, string> {
  const out: Record<string, string> = {};
  const field = /([^\s=]+)=(?:"((?:[^"\\]|\\(?:x[0-9a-f]{2}|u[0-9a-f]{4}|.))*)"|(\S*))(?:\s+|$)/gy;
  let m: RegExpExecArray | null;
  while (field.lastIndex < line.length && (m = field.exec(line)) !== null) {
    const quoted = m[2];
    const unescape = (_: string, e: string): string =>
      e.length > 1 ? String.fromCharCode(parseInt(e.slice(1), 16)) : (UNESCAPE[e] ?? e);
    out[m[1] ?? ''] = quoted?.replace(/\\(x[0-9a-f]{2}|u[0-9a-f]{4}|.)/g, unescape) ?? m[3] ?? '';
  }
  if (field.lastIndex < line.length) throw new SyntaxError(`not a kv line at column ${field.lastIndex}`);
  return out;
}

/** One JSON record -> one `key=value ...` line, keys in record order, FortiOS date/time first. */
export function toKv(line: string): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(line) as Record<string, unknown>;
  } catch {
    // Not a pino record (nothing else writes here): still one line, never raw control characters.
    return `msg=${kvQuote(line)}`;
  }
  const t = typeof rec['time'] === 'number' ? new Date(rec['time']) : new Date();
  const iso = t.toISOString();
  const parts = [`date=${iso.slice(0, 10)}`, `time=${iso.slice(11, 19)}`, `eventtime=${t.getTime() * 1_000_000}`];
  for (const [k, v] of Object.entries(rec)) {
    if (k === 'time' || v === undefined || v === null) continue;
    parts.push(`${k}=${kvValue(v)}`);
  }
  return parts.join(' ');
}

/** A stream that turns pino JSON lines into kv lines on `out`. */
export function kvDestination(out: NodeJS.WritableStream): Writable {
  let pending = '';
  // A chunk may end inside a multi-byte character (a name in Cyrillic): decode across chunks.
  const utf8 = new StringDecoder('utf8');
  return new Writable({
    write(chunk: Buffer, _enc, cb): void {
      pending += utf8.write(chunk);
      let nl = pending.indexOf('\n');
      let text = '';
      while (nl >= 0) {
        text += `${toKv(pending.slice(0, nl))}\n`;
        pending = pending.slice(nl + 1);
        nl = pending.indexOf('\n');
      }
      if (text.length > 0) out.write(text);
      cb();
    },
  });
}

export function createLogger(
  level: string,
  format: 'json' | 'kv',
  out: NodeJS.WritableStream = process.stdout,
): Logger {
  const dest = format === 'kv' ? kvDestination(out) : out;
  return pino(
    {
      level,
      base: null,
      // `level` is a UTM field ("warning"); pino's own level goes to `severity`.
      formatters: { level: (label) => ({ severity: label }) },
    },
    dest as pino.DestinationStream,
  );
}

/** MSISDN pseudonymisation: a keyed hash so SIEMs can still correlate one sender's records. */
export function addressRedactor(key: string | null): (s: string | null) => string | null {
  if (key === null) return (s) => s;
  return (s) => (s === null ? null : `h:${createHmac('sha256', key).update(s).digest('hex').slice(0, 16)}`);
}
