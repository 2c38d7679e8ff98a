/**
 * ICAP replies (RFC 3507 §4.3–4.5, §4.8) read by a byte-level state machine fed arbitrary chunks:
 * the ICAP status line and headers, then what `Encapsulated` announces — the encapsulated HTTP
 * header sections (exactly as many bytes as the body offset says) and a chunked body — then the
 * next reply (a `100 Continue` is followed by the final reply on the same connection). It returns
 * events: `head` (ICAP and HTTP heads parsed), `body` (views into the fed chunks, never copied),
 * `end`. It is tested at every split point and never buffers more than the limits below; it does
 * not decide what a reply means (verdict.ts does) and does not touch sockets (connection.ts does).
 */
import { IcapError, IcapErrorCode } from './errors.js';

/** ICAP status line + headers. c-icap's replies stay under 2 KiB; stops a peer that never ends its head. */
export const MAX_ICAP_HEAD = 16 * 1024;
/** Encapsulated HTTP header sections: a block page has a handful of headers; stops a huge announced offset. */
export const MAX_HTTP_HEAD = 64 * 1024;
/** A chunk-size line (with extensions) or trailer line: stops an endless line from growing memory. */
export const MAX_LINE = 4096;
/** Header fields per section (and trailer fields): stops a header flood costing CPU per field. */
export const MAX_FIELDS = 100;
/** Hex digits of a chunk size: 8 = 4 GiB - 1, more than any part, and sizes stay exact integers. */
export const MAX_CHUNK_DIGITS = 8;

/** Lower-cased field name → values in arrival order; a folded value keeps its lines, joined by '\n'. */
export type FieldMap = ReadonlyMap<string, readonly string[]>;

export interface HttpHead {
  readonly kind: 'request' | 'response';
  readonly startLine: string;
  /** HTTP status of an encapsulated response; null for a request. */
  readonly status: number | null;
  readonly fields: FieldMap;
}

export interface IcapReplyHead {
  readonly status: number;
  readonly reason: string;
  readonly fields: FieldMap;
  /** The encapsulated HTTP head (the response's if both are present), or null. */
  readonly http: HttpHead | null;
  /** True when a chunked body follows (`body` events, then `end`). */
  readonly hasBody: boolean;
}

export type ReplyEvent =
  | { readonly kind: 'head'; readonly head: IcapReplyHead }
  | { readonly kind: 'body'; readonly data: Uint8Array }
  | { readonly kind: 'end' };

/** First value of a field, or undefined. */
export function field(fields: FieldMap, name: string): string | undefined {
  return fields.get(name.toLowerCase())?.[0];
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const ENTITY = /^(req-hdr|res-hdr|req-body|res-body|null-body|opt-body)=(\d{1,9})$/;

interface Entity {
  readonly name: string;
  readonly offset: number;
}

/** `Encapsulated: req-hdr=0, res-hdr=45, res-body=120` → entities, checked for order and shape. */
export function parseEncapsulated(value: string): Entity[] {
  const out: Entity[] = [];
  for (const item of value.split(',')) {
    const m = ENTITY.exec(item.trim());
    if (m === null) throw new Error(`bad Encapsulated entry '${item.trim().slice(0, 40)}'`);
    out.push({ name: m[1] as string, offset: Number(m[2]) });
  }
  const last = out[out.length - 1] as Entity;
  if (!last.name.endsWith('-body')) throw new Error('Encapsulated does not end with a body entity');
  for (let i = 0; i < out.length; i++) {
    const e = out[i] as Entity;
    if (i < out.length - 1 && e.name.endsWith('-body')) throw new Error('a body entity before the end of Encapsulated');
    if (i === 0 && e.offset !== 0) throw new Error('Encapsulated does not start at offset 0');
    // Equal offsets mean an empty section: c-icap's Allow204As200okZeroEncaps sends `res-hdr=0, null-body=0`.
    if (i > 0 && e.offset < (out[i - 1] as Entity).offset) throw new Error('Encapsulated offsets go backwards');
  }
  return out;
}

/** Parses header lines (no start line, no terminator) with obsolete line folding kept as '\n'. */
function parseFields(lines: readonly string[], where: string): Map<string, string[]> {
  const fields = new Map<string, string[]>();
  let last: { name: string; index: number } | null = null;
  let count = 0;
  for (const line of lines) {
    if (line.startsWith(' ') || line.startsWith('\t')) {
      if (last === null) throw new Error(`${where}: a continuation line before any field`);
      const values = fields.get(last.name) as string[];
      values[last.index] = `${values[last.index] ?? ''}\n${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon) : '';
    if (!TOKEN.test(name)) throw new Error(`${where}: a line that is no header field`);
    if (++count > MAX_FIELDS) throw new Error(`${where}: more than ${MAX_FIELDS} header fields`);
    const key = name.toLowerCase();
    const values = fields.get(key) ?? [];
    values.push(line.slice(colon + 1).trim());
    fields.set(key, values);
    last = { name: key, index: values.length - 1 };
  }
  return fields;
}

/** One encapsulated HTTP header section: start line, fields, and its blank-line terminator. */
function parseHttpSection(text: string, kind: 'request' | 'response'): HttpHead {
  const lines = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  const blank = lines.indexOf('');
  if (blank < 1) throw new Error(`encapsulated HTTP ${kind} head is not terminated by a blank line`);
  if (lines.slice(blank + 1).some((l) => l !== '')) throw new Error(`bytes after the encapsulated HTTP ${kind} head`);
  const startLine = lines[0] as string;
  let status: number | null = null;
  if (kind === 'response') {
    const m = /^HTTP\/\d\.\d (\d{3})(?: .*)?$/.exec(startLine);
    if (m === null) throw new Error('encapsulated HTTP response has no status line');
    status = Number(m[1]);
  } else if (!/^[A-Z]+ \S+ HTTP\/\d\.\d$/.test(startLine)) {
    throw new Error('encapsulated HTTP request has no request line');
  }
  return { kind, startLine, status, fields: parseFields(lines.slice(1, blank), `encapsulated HTTP ${kind}`) };
}

const enum State { Head, Encap, Size, Data, DataCr, DataLf, Trailer, Failed }

export class ReplyReader {
  private state = State.Head;
  /** Bytes of the current line not yet terminated. */
  private line: Buffer[] = [];
  private lineLength = 0;
  /** Complete lines of the ICAP head (or trailer) so far, and their byte count. */
  private lines: string[] = [];
  private headBytes = 0;
  private pendingHead: Omit<IcapReplyHead, 'http' | 'hasBody'> | null = null;
  private entities: Entity[] = [];
  private encap: Buffer[] = [];
  private encapLength = 0;
  private encapNeeded = 0;
  private chunkLeft = 0;
  /** Bytes fed so far: error messages say where the reply broke. */
  private offset = 0;

  /** True once any byte of a reply has arrived and that reply has not ended. */
  get inReply(): boolean {
    return this.state !== State.Head || this.lineLength > 0 || this.lines.length > 0;
  }

  /** Feeds a chunk; returns the events it completed. Throws IcapError(PROTOCOL) on a broken reply. */
  feed(chunk: Uint8Array): ReplyEvent[] {
    if (this.state === State.Failed) throw new IcapError(IcapErrorCode.PROTOCOL, 'reply reader used after an error');
    const out: ReplyEvent[] = [];
    let i = 0;
    try {
      while (i < chunk.length) i = this.step(chunk, i, out);
    } catch (e) {
      this.state = State.Failed;
      const why = e instanceof Error ? e.message : String(e);
      throw new IcapError(IcapErrorCode.PROTOCOL, `broken ICAP reply near byte ${this.offset + i}: ${why}`);
    }
    this.offset += chunk.length;
    return out;
  }

  /** Consumes from `i`; returns the new position. */
  private step(c: Uint8Array, i: number, out: ReplyEvent[]): number {
    switch (this.state) {
      case State.Head:
      case State.Size:
      case State.Trailer: {
        const limit = this.state === State.Head ? MAX_ICAP_HEAD - this.headBytes : MAX_LINE;
        const lf = c.indexOf(0x0a, i);
        const end = lf === -1 ? c.length : lf;
        if (this.lineLength + (end - i) > limit) {
          const head = this.state === State.Head;
          throw new Error(head ? `ICAP head longer than ${MAX_ICAP_HEAD} bytes` : `line longer than ${MAX_LINE} bytes`);
        }
        if (end > i) {
          this.line.push(Buffer.from(c.subarray(i, end)));
          this.lineLength += end - i;
        }
        if (lf === -1) return c.length;
        let text = Buffer.concat(this.line, this.lineLength).toString('latin1');
        if (this.state === State.Head) this.headBytes += this.lineLength + 1;
        this.line = [];
        this.lineLength = 0;
        if (text.endsWith('\r')) text = text.slice(0, -1);
        this.onLine(text, out);
        return lf + 1;
      }
      case State.Encap: {
        const n = Math.min(this.encapNeeded - this.encapLength, c.length - i);
        this.encap.push(Buffer.from(c.subarray(i, i + n)));
        this.encapLength += n;
        if (this.encapLength === this.encapNeeded) this.onEncap(out);
        return i + n;
      }
      case State.Data: {
        const n = Math.min(this.chunkLeft, c.length - i);
        out.push({ kind: 'body', data: c.subarray(i, i + n) });
        this.chunkLeft -= n;
        if (this.chunkLeft === 0) this.state = State.DataCr;
        return i + n;
      }
      case State.DataCr:
      case State.DataLf: {
        const b = c[i];
        if (b === 0x0d && this.state === State.DataCr) this.state = State.DataLf;
        else if (b === 0x0a) this.state = State.Size;
        else throw new Error('chunk data longer than its announced size');
        return i + 1;
      }
      case State.Failed:
        throw new Error('reader failed');
    }
  }

  private onLine(text: string, out: ReplyEvent[]): void {
    if (this.state === State.Size) {
      const m = /^([0-9A-Fa-f]+)[ \t]*(?:;.*)?$/.exec(text);
      if (m === null) throw new Error('bad chunk-size line');
      const digits = (m[1] as string).replace(/^0+(?=.)/, '');
      if (digits.length > MAX_CHUNK_DIGITS) throw new Error(`chunk size has more than ${MAX_CHUNK_DIGITS} hex digits`);
      this.chunkLeft = Number.parseInt(digits, 16);
      this.state = this.chunkLeft === 0 ? State.Trailer : State.Data;
      this.lines = [];
      return;
    }
    if (this.state === State.Trailer) {
      if (text !== '') {
        if (this.lines.length >= MAX_FIELDS) throw new Error(`more than ${MAX_FIELDS} trailer fields`);
        this.lines.push(text);
        return;
      }
      this.finish(out);
      return;
    }
    // ICAP head. Empty lines before the status line are skipped (robustness, as RFC 9112 §2.2 allows).
    if (text !== '') {
      this.lines.push(text);
      return;
    }
    if (this.lines.length > 0) this.onHead(out);
  }

  private onHead(out: ReplyEvent[]): void {
    const [statusLine = '', ...rest] = this.lines;
    const m = /^ICAP\/1\.\d (\d{3})(?: (.*))?$/.exec(statusLine);
    if (m === null) throw new Error('no ICAP status line');
    const status = Number(m[1]);
    const fields = parseFields(rest, 'ICAP head');
    this.lines = [];
    this.headBytes = 0;
    const head = { status, reason: m[2] ?? '', fields };
    const encapsulated = field(fields, 'encapsulated');
    // 100 and 204 carry no message (c-icap sends them without Encapsulated); other statuses without
    // Encapsulated carry none either, except 200, whose whole point is the message.
    if (status === 100 || status === 204 || encapsulated === undefined) {
      if (status === 200) throw new Error('a 200 reply without Encapsulated');
      out.push({ kind: 'head', head: { ...head, http: null, hasBody: false } });
      this.finish(out);
      return;
    }
    this.entities = parseEncapsulated(encapsulated);
    const bodyOffset = (this.entities[this.entities.length - 1] as Entity).offset;
    if (bodyOffset > MAX_HTTP_HEAD) throw new Error(`encapsulated HTTP heads longer than ${MAX_HTTP_HEAD} bytes`);
    this.pendingHead = head;
    this.encapNeeded = bodyOffset;
    this.encap = [];
    this.encapLength = 0;
    this.state = State.Encap;
    if (bodyOffset === 0) this.onEncap(out);
  }

  private onEncap(out: ReplyEvent[]): void {
    const bytes = Buffer.concat(this.encap, this.encapLength);
    this.encap = [];
    const sections = this.entities.slice(0, -1);
    const body = this.entities[this.entities.length - 1] as Entity;
    const pick = sections.find((e) => e.name === 'res-hdr') ?? sections.find((e) => e.name === 'req-hdr');
    let http: HttpHead | null = null;
    if (pick !== undefined) {
      const next = this.entities[this.entities.indexOf(pick) + 1] as Entity;
      const text = bytes.subarray(pick.offset, next.offset).toString('latin1');
      if (text !== '') http = parseHttpSection(text, pick.name === 'res-hdr' ? 'response' : 'request');
    }
    const hasBody = body.name !== 'null-body';
    out.push({ kind: 'head', head: { ...(this.pendingHead as IcapReplyHead), http, hasBody } });
    this.pendingHead = null;
    if (hasBody) this.state = State.Size;
    else this.finish(out);
  }

  private finish(out: ReplyEvent[]): void {
    out.push({ kind: 'end' });
    this.state = State.Head;
    this.lines = [];
    this.headBytes = 0;
  }
}
