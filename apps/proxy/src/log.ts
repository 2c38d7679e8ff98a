/**
 * Logging: pino JSON on stdout, or FortiOS-style `key=value` lines
 * (LOG_FORMAT=kv). One `event=verdict` record per message, one `type=utm`
 * record per blocked or monitored part (CONTRACT §5). Payloads are never
 * logged; MSISDNs can be pseudonymised with a keyed hash.
 */
import { createHmac } from 'node:crypto';
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';

function kvValue(v: unknown): string {
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/** One JSON record -> one `key=value ...` line, keys in record order, FortiOS date/time first. */
export function toKv(line: string): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
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

function kvDestination(out: NodeJS.WritableStream): Writable {
  let pending = '';
  return new Writable({
    write(chunk: Buffer, _enc, cb): void {
      pending += chunk.toString('utf8');
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

export function createLogger(level: string, format: 'json' | 'kv', out: NodeJS.WritableStream = process.stdout): Logger {
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
