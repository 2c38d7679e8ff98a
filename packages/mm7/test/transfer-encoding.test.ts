/** Undoing transfer encodings so that content split by decoder tricks is rejoined here. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { base64Ambiguity, decodeQuotedPrintable, decodedBody, transferEncodingKind } from '../src/index.js';
import { EICAR } from './bodies.js';

/** A reference QP encoder: every octet outside 33..126 (and '=') as =XX, soft breaks every `width` characters. */
function qpEncode(d: Uint8Array, width: number, pad: string, br: string): string {
  const hex = (c: number): string => `=${c.toString(16).toUpperCase().padStart(2, '0')}`;
  const tokens = [...d].map((c) => (c >= 33 && c <= 126 && c !== 0x3d ? String.fromCharCode(c) : hex(c)));
  let out = '';
  let line = '';
  for (const t of tokens) {
    if (line.length + t.length > width) {
      out += `${line}=${pad}${br}`;
      line = '';
    }
    line += t;
  }
  return out + line;
}

const qp = (s: string): string => decodeQuotedPrintable(Buffer.from(s, 'latin1')).toString('latin1');

describe('quoted-printable', () => {
  it('round-trips any bytes whatever the soft-break width, padding and line break (property)', () => {
    const pads = fc.constantFrom('', ' ', '\t ', '  ');
    const breaks = fc.constantFrom('\r\n', '\n', '\r');
    const widths = fc.integer({ min: 3, max: 76 });
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), widths, pads, breaks, (d, w, pad, br) => {
        expect(decodeQuotedPrintable(Buffer.from(qpEncode(d, w, pad, br), 'latin1')).equals(Buffer.from(d))).toBe(true);
      }), { numRuns: 3000 });
  });

  it('rejoins EICAR split by a soft break with trailing padding or a bare CR (decoders that strip padding do)', () => {
    expect(qp(`${EICAR.slice(0, 20)}= \t\r\n${EICAR.slice(20)}`)).toBe(EICAR);
    expect(qp(`${EICAR.slice(0, 20)}=\r${EICAR.slice(20)}`)).toBe(EICAR);
  });

  it('drops trailing padding on hard lines, accepts lower-case hex, keeps a stray "="', () => {
    expect(qp('a  \r\nb\t\nc')).toBe('a\r\nb\nc');
    expect(qp('=3d=3D=e9')).toBe('==\xe9');
    expect(qp('a=ZZb=4')).toBe('a=ZZb=4');
  });
});

describe('base64 and the kinds of encodings', () => {
  it('finds data after padding and URL-safe characters, nothing else', () => {
    const amb = (s: string): string | null => base64Ambiguity(Buffer.from(s), 0, s.length);
    expect(amb('QUJD\r\nQQ==\r\n')).toBeNull();
    expect(amb('QU JD!*.\r\n')).toBeNull();
    expect(amb('QQ==QUJD')).toMatch(/after its padding/);
    expect(amb('QQ=\r\n=\r\nx')).toMatch(/after its padding/);
    expect(amb('QUJD_')).toMatch(/URL-safe/);
  });

  it('names kinds, and decodedBody takes any case of the value', () => {
    expect(['7bit', '8bit', 'binary', null].map((v) => transferEncodingKind(v))).toEqual(Array(4).fill('identity'));
    expect(['x-uuencode', 'uuencode', 'x-uue', 'uue'].map(transferEncodingKind)).toEqual(Array(4).fill('uuencode'));
    expect(transferEncodingKind('x-foo')).toBe('unknown');
    expect(Buffer.from(decodedBody({ raw: Buffer.from('QUJD'), transferEncoding: 'BASE64' })).toString()).toBe('ABC');
  });
});
