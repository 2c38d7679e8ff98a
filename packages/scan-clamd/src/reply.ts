/**
 * clamd replies. With the `z` command prefix every reply ends in NUL. The
 * reader is a byte-level state machine fed arbitrary chunks (it is tested at
 * every split point); a reply longer than MAX_REPLY is a protocol error, so a
 * broken peer cannot make us buffer without bound.
 */
import type { ScanOutcome } from '@mmsguard/scan';
import { ClamdErrorCode } from './errors.js';

/** Long enough for any signature name clamd prints; stops an endless reply from growing memory. */
export const MAX_REPLY = 4096;

export class ReplyReader {
  private parts: Buffer[] = [];
  private length = 0;
  private overflow = false;

  /** Feeds a chunk; returns the replies it completed (without the NUL). */
  feed(chunk: Uint8Array): string[] {
    const out: string[] = [];
    let start = 0;
    for (;;) {
      const nul = chunk.indexOf(0, start);
      const end = nul === -1 ? chunk.length : nul;
      const piece = chunk.subarray(start, end);
      if (this.length + piece.length > MAX_REPLY) this.overflow = true;
      else if (piece.length > 0) {
        this.parts.push(Buffer.from(piece));
        this.length += piece.length;
      }
      if (nul === -1) break;
      out.push(this.overflow ? '\u0000overflow' : Buffer.concat(this.parts, this.length).toString('utf8'));
      this.parts = [];
      this.length = 0;
      this.overflow = false;
      start = nul + 1;
    }
    return out;
  }

  get tooLong(): boolean {
    return this.overflow;
  }

  /** What is buffered of an unterminated reply (clamd closed without the NUL). */
  pending(): string | null {
    return this.length > 0 ? Buffer.concat(this.parts, this.length).toString('utf8') : null;
  }
}

/** The outcome of an INSTREAM reply. */
export function parseScanReply(reply: string): ScanOutcome {
  if (reply === '\u0000overflow') {
    return { kind: 'error', code: ClamdErrorCode.PROTOCOL, message: `clamd reply longer than ${MAX_REPLY} bytes` };
  }
  const r = reply.trim();
  if (r === 'INSTREAM size limit exceeded. ERROR') {
    return {
      kind: 'error', code: ClamdErrorCode.SIZE_LIMIT,
      message: 'clamd: INSTREAM size limit exceeded (raise StreamMaxLength)',
    };
  }
  const m = /^(?:stream|[^:]*):\s*(.*?)\s+(FOUND|ERROR)$/.exec(r);
  if (m !== null) {
    const what = m[1] as string;
    return m[2] === 'FOUND'
      ? { kind: 'infected', name: what }
      : { kind: 'error', code: ClamdErrorCode.ERROR, message: `clamd: ${what.slice(0, 200)}` };
  }
  if (/^(?:stream|[^:]*):\s*OK$/.test(r)) return { kind: 'clean' };
  if (r.endsWith(' ERROR')) return { kind: 'error', code: ClamdErrorCode.ERROR, message: `clamd: ${r.slice(0, 200)}` };
  return { kind: 'error', code: ClamdErrorCode.PROTOCOL, message: 'clamd sent a reply that is no scan result' };
}
