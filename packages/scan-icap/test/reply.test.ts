/** The ICAP reply reader: real c-icap bytes and synthetic ones, at every split point, plus properties and limits. */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  IcapError, MAX_CHUNK_DIGITS, MAX_FIELDS, MAX_HTTP_HEAD, MAX_ICAP_HEAD, MAX_LINE, ReplyReader, field,
  parseEncapsulated, type ReplyEvent,
} from '../src/index.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const fixture = (name: string): Buffer => readFileSync(join(FIXTURES, name));

type Norm = { kind: 'head'; head: unknown } | { kind: 'body'; data: string } | { kind: 'end' };

/** Feeds the pieces; merges adjacent body events, so that only the chunking can differ. */
function run(pieces: readonly Uint8Array[]): Norm[] {
  const r = new ReplyReader();
  const out: Norm[] = [];
  const add = (e: ReplyEvent): void => {
    const last = out[out.length - 1];
    if (e.kind === 'body' && last?.kind === 'body') last.data += Buffer.from(e.data).toString('latin1');
    else if (e.kind === 'body') out.push({ kind: 'body', data: Buffer.from(e.data).toString('latin1') });
    else out.push(e.kind === 'head' ? { kind: 'head', head: e.head } : { kind: 'end' });
  };
  for (const p of pieces) for (const e of r.feed(p)) add(e);
  expect(r.inReply).toBe(false);
  return out;
}

const http403 = 'HTTP/1.1 403 Forbidden\r\nContent-Type: text/html\r\n\r\n';
const reqHead = 'POST /mms/part HTTP/1.1\r\nHost: mmsguard.invalid\r\n\r\n';
const SYNTHETIC = [
  // REQMOD echo: chunk extensions, several chunks, a trailer.
  `ICAP/1.0 200 OK\r\nEncapsulated: req-hdr=0, req-body=${reqHead.length}\r\n\r\n${reqHead}` +
    '5;name=x\r\nhello\r\n3 \r\nabc\r\n0\r\nX-Trailer: 1\r\n\r\n',
  // c-icap's Allow204As200okZeroEncaps.
  'ICAP/1.0 200 OK\r\nEncapsulated: res-hdr=0, null-body=0\r\n\r\n',
  // An error without Encapsulated; a reply with bare LF line ends.
  'ICAP/1.0 500 Server Error\r\n\r\n',
  'ICAP/1.0 204 No Content\nISTag: "LF-only"\n\n',
  // Another vendor's header and a bodiless block page.
  'ICAP/1.0 200 OK\r\nX-Virus-ID: Troj/Test-A\r\n' +
    `Encapsulated: res-hdr=0, null-body=${http403.length}\r\n\r\n${http403}`,
];
const WIRE = Buffer.concat([
  fixture('options.bin'), fixture('continue-204.bin'), fixture('eicar-403.bin'), fixture('clean-204.bin'),
  fixture('echo-200.bin'), ...SYNTHETIC.map((s) => Buffer.from(s, 'latin1')),
]);

describe('the ICAP reply reader on real c-icap replies', () => {
  it('reads an OPTIONS reply: methods, preview, ISTag, no body', () => {
    const [head, end] = run([fixture('options.bin')]);
    expect(end).toEqual({ kind: 'end' });
    expect(head).toMatchObject({ kind: 'head', head: { status: 200, http: null, hasBody: false } });
    const fields = (head as { head: { fields: Map<string, string[]> } }).head.fields;
    expect(field(fields, 'Methods')).toBe('RESPMOD, REQMOD');
    expect(field(fields, 'preview')).toBe('1024');
  });

  it('reads 100 Continue and the 204 after it as two replies', () => {
    const statuses = run([fixture('continue-204.bin')])
      .map((e) => (e.kind === 'head' ? (e.head as { status: number }).status : e.kind));
    expect(statuses).toEqual([100, 'end', 204, 'end']);
  });

  it('reads the EICAR block: folded X-Violations-Found kept by line, the 403 head, the whole page', () => {
    const [head, body, end] = run([fixture('eicar-403.bin')]);
    const h = (head as { head: { fields: Map<string, string[]>; http: { status: number; kind: string } } }).head;
    expect(field(h.fields, 'x-infection-found')).toBe('Type=0; Resolution=2; Threat=Eicar-Test-Signature.UNOFFICIAL;');
    expect(field(h.fields, 'x-violations-found')).toBe('1\n-\nEicar-Test-Signature.UNOFFICIAL\n0\n0');
    expect(h.http).toMatchObject({ kind: 'response', status: 403 });
    expect((body as { data: string }).data).toMatch(/^<html>[\s\S]*VIRUS FOUND[\s\S]*<\/html>\n\0\0$/);
    expect(end).toEqual({ kind: 'end' });
  });

  it('reads the echoed part of a 200 byte for byte', () => {
    const events = run([fixture('echo-200.bin')]);
    expect(events[1]).toEqual({ kind: 'body', data: 'hello world, a clean part' });
  });
});

describe('the ICAP reply reader at every split point', () => {
  const whole = run([WIRE]);

  it('reads the recorded and synthetic replies back to back on one connection', () => {
    expect(whole.filter((e) => e.kind === 'end')).toHaveLength(6 + SYNTHETIC.length);
    expect(whole).toContainEqual({ kind: 'body', data: 'helloabc' });
  });

  it('gives the same events wherever the stream is cut (every offset, and 13 bytes later)', () => {
    for (let a = 0; a <= WIRE.length; a++) {
      const b = Math.min(WIRE.length, a + 13);
      expect(run([WIRE.subarray(0, a), WIRE.subarray(a, b), WIRE.subarray(b)]), `split at ${a},${b}`).toEqual(whole);
    }
  });

  it('gives the same events byte by byte', () => {
    expect(run([...WIRE].map((b) => Uint8Array.of(b)))).toEqual(whole);
  });

  it('gives the same events for any chunking (property)', () => {
    fc.assert(fc.property(fc.array(fc.nat({ max: WIRE.length }), { maxLength: 12 }), (cuts) => {
      const points = [...new Set(cuts)].sort((x, y) => x - y);
      const pieces: Uint8Array[] = [];
      let prev = 0;
      for (const p of [...points, WIRE.length]) {
        pieces.push(WIRE.subarray(prev, p));
        prev = p;
      }
      expect(run(pieces)).toEqual(whole);
    }));
  });
});

/** A reply built from parts, to check what the reader gives back (round trip). */
const arbReply = fc.record({
  status: fc.constantFrom(200, 204, 403, 500),
  reason: fc.stringMatching(/^[A-Za-z ]{0,12}$/),
  fields: fc.array(
    fc.tuple(fc.stringMatching(/^X-[A-Za-z]{1,8}$/), fc.stringMatching(/^[!-~]([ -~]{0,20}[!-~])?$/)), { maxLength: 5 },
  ),
  status2: fc.integer({ min: 100, max: 599 }),
  chunks: fc.option(fc.array(fc.uint8Array({ minLength: 1, maxLength: 40 }), { maxLength: 4 }), { nil: null }),
});

describe('the ICAP reply reader (properties)', () => {
  it('gives back what a reply was built from (round trip)', () => {
    fc.assert(fc.property(arbReply, (r) => {
      const fieldText = r.fields.map(([n, v]) => `${n}: ${v}\r\n`).join('');
      let wire = `ICAP/1.0 ${r.status} ${r.reason}\r\n${fieldText}`;
      const httpHead = `HTTP/1.1 ${r.status2} Whatever\r\nX-A: b\r\n\r\n`;
      const withMessage = r.status === 200 || r.status === 403;
      let bodyWire = '';
      if (withMessage) {
        const enc = r.chunks === null ? `null-body=${httpHead.length}` : `res-body=${httpHead.length}`;
        wire += `Encapsulated: res-hdr=0, ${enc}\r\n\r\n${httpHead}`;
        if (r.chunks !== null) {
          const framed = r.chunks.map((c) => `${c.length.toString(16)}\r\n${Buffer.from(c).toString('latin1')}\r\n`);
          bodyWire = `${framed.join('')}0\r\n\r\n`;
        }
      } else {
        wire += '\r\n';
      }
      const events = run([Buffer.from(wire + bodyWire, 'latin1')]);
      type Head = { status: number; reason: string; fields: Map<string, string[]>; http: unknown };
      const head = events[0] as { head: Head };
      expect(head.head.status).toBe(r.status);
      expect(head.head.reason).toBe(r.reason);
      for (const [n, v] of r.fields) expect(head.head.fields.get(n.toLowerCase())).toContain(v);
      if (withMessage) expect(head.head.http).toMatchObject({ kind: 'response', status: r.status2 });
      const body = r.chunks === null || !withMessage ? '' : Buffer.concat(r.chunks).toString('latin1');
      expect(events.filter((e) => e.kind === 'body').map((e) => (e as { data: string }).data).join('')).toBe(body);
      expect(events[events.length - 1]).toEqual({ kind: 'end' });
    }));
  });

  it('answers arbitrary bytes with events or its own PROTOCOL error, nothing else (totality)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      try {
        new ReplyReader().feed(bytes);
      } catch (e) {
        expect(e).toBeInstanceOf(IcapError);
        expect((e as IcapError).code).toBe('MMS_ERR_ICAP_PROTOCOL');
      }
    }));
  });

  it('answers damaged real replies with events or its own error (one byte changed anywhere)', () => {
    fc.assert(fc.property(fc.nat({ max: WIRE.length - 1 }), fc.integer({ min: 0, max: 255 }), (at, byte) => {
      const bytes = Buffer.from(WIRE);
      bytes[at] = byte;
      try {
        new ReplyReader().feed(bytes);
      } catch (e) {
        expect((e as IcapError).code).toBe('MMS_ERR_ICAP_PROTOCOL');
      }
    }));
  });
});

describe('the ICAP reply reader refuses broken replies', () => {
  const broken = (s: string | Uint8Array): void => {
    expect(() => new ReplyReader().feed(typeof s === 'string' ? Buffer.from(s, 'latin1') : s), String(s).slice(0, 60))
      .toThrow(expect.objectContaining({ code: 'MMS_ERR_ICAP_PROTOCOL' }) as Error);
  };

  it('refuses what is not ICAP, a 200 without Encapsulated, and a field line without a name', () => {
    broken('HTTP/1.1 200 OK\r\n\r\n');
    broken('ICAP/2.0 200 OK\r\n\r\n');
    broken('ICAP/1.0 200 OK\r\nISTag: x\r\n\r\n');
    broken('ICAP/1.0 204 OK\r\nno colon here\r\n\r\n');
    broken('ICAP/1.0 204 OK\r\n folded first\r\n\r\n');
  });

  it('refuses a bad Encapsulated and encapsulated heads that do not fit it', () => {
    broken('ICAP/1.0 200 OK\r\nEncapsulated: res-body=0, res-hdr=10\r\n\r\n');
    broken('ICAP/1.0 200 OK\r\nEncapsulated: res-hdr=5, res-body=20\r\n\r\n');
    broken('ICAP/1.0 200 OK\r\nEncapsulated: res-hdr=0\r\n\r\n');
    broken('ICAP/1.0 200 OK\r\nEncapsulated: res-hdr=0, res-body=10\r\n\r\nNOT HTTP\r\n');
    broken('ICAP/1.0 200 OK\r\nEncapsulated: res-hdr=0, res-body=12\r\n\r\nHTTP/1.1 200');
    broken('ICAP/1.0 200 OK\r\nEncapsulated: res-hdr=0, res-body=21\r\n\r\nHTTP/1.1 200 OK\r\n\r\nxx');
    expect(() => parseEncapsulated('res-hdr=0, res-body=20, null-body=30')).toThrow();
  });

  it('refuses chunks that lie about their size', () => {
    const head = 'ICAP/1.0 200 OK\r\nEncapsulated: res-hdr=0, res-body=19\r\n\r\nHTTP/1.1 200 OK\r\n\r\n';
    broken(`${head}3\r\nabcd\r\n0\r\n\r\n`);
    broken(`${head}zz\r\nab\r\n`);
    broken(`${head}${'1'.repeat(MAX_CHUNK_DIGITS + 1)}\r\n`);
    expect(() => new ReplyReader().feed(Buffer.from(`${head}${'0'.repeat(20)}1\r\nx\r\n0\r\n\r\n`))).not.toThrow();
  });

  it('stops at each limit instead of buffering: ICAP head, encapsulated heads, lines, fields', () => {
    const r = new ReplyReader();
    expect(r.feed(Buffer.from('ICAP/1.0 200 OK\r\nX-Long: '))).toEqual([]);
    expect(() => r.feed(Buffer.alloc(MAX_ICAP_HEAD, 0x41))).toThrow(/longer than/);
    expect(() => r.feed(Buffer.from('x'))).toThrow(IcapError);
    broken(`ICAP/1.0 200 OK\r\nEncapsulated: res-hdr=0, res-body=${MAX_HTTP_HEAD + 1}\r\n\r\n`);
    const head = 'ICAP/1.0 200 OK\r\nEncapsulated: res-hdr=0, res-body=19\r\n\r\nHTTP/1.1 200 OK\r\n\r\n';
    broken(`${head}1;${'e'.repeat(MAX_LINE)}`);
    broken(`${head}0\r\n${'T: 1\r\n'.repeat(MAX_FIELDS + 1)}`);
    broken(`ICAP/1.0 204 OK\r\n${'X-A: 1\r\n'.repeat(MAX_FIELDS + 1)}\r\n`);
  });

  it('says whether a reply has begun (a pooled connection that dies before that is retried)', () => {
    const r = new ReplyReader();
    expect(r.inReply).toBe(false);
    r.feed(Buffer.from('ICAP/1.0 2'));
    expect(r.inReply).toBe(true);
    expect(r.feed(Buffer.from('04 No Content\r\n\r\n')).map((e) => e.kind)).toEqual(['head', 'end']);
    expect(r.inReply).toBe(false);
  });
});
