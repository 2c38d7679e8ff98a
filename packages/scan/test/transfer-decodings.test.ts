/**
 * transferDecodings: what a lenient receiver decodes a part into, whatever its headers say (issue 14 class 1).
 * Encoders here are independent of the decoders under test (Buffer's base64, hand-written QP and uuencode).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BuiltinEngine, decodeBase64Lenient, decodeQuotedPrintable, decodeUuencode, transferDecodings, transferEncodingName,
} from '../src/index.js';
import { EICAR, enc } from './helpers.js';

const b64 = (d: Uint8Array, lineLength = 76): Uint8Array => {
  const s = Buffer.from(d).toString('base64');
  return enc((s.match(new RegExp(`.{1,${lineLength}}`, 'g')) ?? []).join('\r\n'));
};
/** Every byte as =XX, a soft line break every `every` escapes. */
const qp = (d: Uint8Array, every = 20): Uint8Array =>
  enc([...d].map((b, i) => {
    const soft = (i + 1) % every === 0 ? '=\r\n' : '';
    return `=${b.toString(16).toUpperCase().padStart(2, '0')}${soft}`;
  }).join(''));
const uu = (d: Uint8Array, name = 'eicar.com'): Uint8Array => {
  const ch = (v: number): string => (v === 0 ? '`' : String.fromCharCode(v + 32));
  const lines: string[] = [];
  for (let o = 0; o < d.length; o += 45) {
    const chunk = [...d.subarray(o, o + 45)];
    let line = ch(chunk.length);
    for (let i = 0; i < chunk.length; i += 3) {
      const [a = 0, b = 0, c = 0] = chunk.slice(i, i + 3);
      line += ch(a >> 2) + ch(((a << 4) | (b >> 4)) & 63) + ch(((b << 2) | (c >> 6)) & 63) + ch(c & 63);
    }
    lines.push(line);
  }
  return enc(`begin 644 ${name}\n${lines.join('\n')}\n\`\nend\n`);
};
const engine = new BuiltinEngine();
const infected = (d: Uint8Array): boolean => engine.scanSync(d).kind === 'infected';

describe('the declared Content-Transfer-Encoding is decoded', () => {
  it('decodes declared base64, quoted-printable and x-uuencode to EICAR', () => {
    const cases = [[b64(EICAR), 'base64'], [qp(EICAR), 'Quoted-Printable'], [uu(EICAR), 'x-uuencode']] as const;
    for (const [data, cte] of cases) {
      const forms = transferDecodings(data, cte);
      expect(forms[0], cte).toMatchObject({ reason: 'declared', encoding: transferEncodingName(cte) });
      expect(infected(forms[0]?.data ?? new Uint8Array()), cte).toBe(true);
    }
  });

  it('reads names the way receivers do: any case, quoted, padded; unknown or identity encodings decode nothing', () => {
    expect(transferEncodingName(' "BASE64" ')).toBe('base64');
    expect(transferEncodingName('uuencode')).toBe('x-uuencode');
    expect(transferEncodingName('7bit')).toBeNull();
    expect(transferDecodings(enc('plain words, nothing encoded here.'), '8bit')).toEqual([]);
  });

  it('decodes declared base64 leniently: characters outside the alphabet are skipped', () => {
    const noisy = Buffer.from(Buffer.from(b64(EICAR)).toString('latin1').replace(/(.{7})/g, '$1!\t*'), 'latin1');
    expect(infected(transferDecodings(noisy, 'base64')[0]?.data ?? new Uint8Array())).toBe(true);
  });
});

describe('bytes that are valid base64 / QP / uuencode are decoded whatever the headers say', () => {
  it('decodes undeclared base64 (the header hidden or misspelt) as content', () => {
    const forms = transferDecodings(b64(EICAR), null);
    expect(forms).toHaveLength(1);
    expect(forms[0]).toMatchObject({ encoding: 'base64', reason: 'content', label: 'base64-decoded' });
    expect(infected(forms[0]?.data ?? new Uint8Array())).toBe(true);
  });

  it('decodes undeclared QP and uuencode, and base64 under a wrong declared encoding', () => {
    // QP made only of escapes is also valid base64: both readings are given, the QP one finds EICAR.
    const qpForms = transferDecodings(qp(EICAR), '7bit');
    expect(qpForms.map((f) => f.encoding)).toContain('base64');
    expect(infected(qpForms.find((f) => f.encoding === 'quoted-printable')?.data ?? new Uint8Array())).toBe(true);
    expect(infected(transferDecodings(uu(EICAR), null)[0]?.data ?? new Uint8Array())).toBe(true);
    const wrong = transferDecodings(b64(EICAR), 'quoted-printable');
    expect(wrong.some((f) => f.reason === 'content' && f.encoding === 'base64' && infected(f.data))).toBe(true);
  });

  it('decodes uuencode -m (begin-base64)', () => {
    const body = enc(`begin-base64 644 e.com\n${Buffer.from(b64(EICAR)).toString('latin1')}\n====\n`);
    expect(infected(decodeUuencode(body) ?? new Uint8Array())).toBe(true);
  });

  it('leaves short words and ordinary text alone', () => {
    expect(transferDecodings(enc('Hello2024'), null)).toEqual([]);
    expect(transferDecodings(enc('See you at 10, ok? Bring the camera.'), null)).toEqual([]);
    expect(transferDecodings(enc('a=b and c = d'), null)).toEqual([]);
  });

  it('gives both readings of base64 that goes on after padding (concatenated bodies)', () => {
    const data = enc(`${Buffer.from('hi').toString('base64')}${Buffer.from(EICAR).toString('base64')}`);
    const forms = transferDecodings(data, 'base64');
    expect(forms.map((f) => f.label)).toEqual(['base64-decoded', 'base64-decoded to the first padding']);
    expect(Buffer.from(forms[0]?.data ?? []).subarray(2).equals(Buffer.from(EICAR))).toBe(true);
    expect(Buffer.from(forms[1]?.data ?? []).toString()).toBe('hi');
    const decoyLast = enc(`${Buffer.from(EICAR).toString('base64')}${Buffer.from('tail!').toString('base64')}`);
    expect(transferDecodings(decoyLast, 'base64').some((f) => infected(f.data))).toBe(true);
  });
});

describe('properties', () => {
  const bytes = fc.uint8Array({ maxLength: 300 });
  it('base64 round-trips through any line length and stray whitespace', () => {
    fc.assert(fc.property(bytes, fc.integer({ min: 4, max: 100 }), (d, line) => {
      expect(Buffer.from(decodeBase64Lenient(b64(d, line)).all).equals(Buffer.from(d))).toBe(true);
    }));
  });

  it('quoted-printable and uuencode round-trip', () => {
    fc.assert(fc.property(bytes, fc.integer({ min: 1, max: 40 }), (d, every) => {
      expect(Buffer.from(decodeQuotedPrintable(qp(d, every))).equals(Buffer.from(d))).toBe(true);
      expect(Buffer.from(decodeUuencode(uu(d)) ?? []).equals(Buffer.from(d))).toBe(true);
    }));
  });

  it('is total and bounded: any bytes and any header give forms no longer than the input, none equal to it', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), fc.option(fc.string()), (d, cte) => {
      const forms = transferDecodings(d, cte);
      for (const f of forms) {
        expect(f.data.length).toBeLessThanOrEqual(d.length);
        expect(Buffer.from(f.data).equals(Buffer.from(d))).toBe(false);
      }
      expect(new Set(forms.map((f) => Buffer.from(f.data).toString('hex'))).size).toBe(forms.length);
    }), { numRuns: 500 });
  });

  it('is total on text made of the encodings\' own characters', () => {
    const text = fc.string({ unit: fc.constantFrom(...'=AZaz09+/ \r\n\t`!begin 644 end-'.split('')), maxLength: 300 });
    fc.assert(fc.property(text, fc.constantFrom(null, 'base64', 'quoted-printable', 'x-uuencode'), (s, cte) => {
      for (const f of transferDecodings(enc(s), cte)) expect(f.data.length).toBeLessThanOrEqual(s.length);
    }), { numRuns: 500 });
  });
});

describe('transferDecodings does not guess QP for 8-bit content', () => {
  it('decodes `=XX` in 7-bit text, never in binary (QP is 7-bit; a declared QP is still decoded)', () => {
    const text = new TextEncoder().encode('caf=C3=A9 and more text');
    expect(transferDecodings(text).map((d) => d.encoding)).toContain('quoted-printable');
    const binary = new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0xff, 0x3d, 0x34, 0x31, 0x80, 0x00]);
    expect(transferDecodings(binary).map((d) => d.encoding)).not.toContain('quoted-printable');
    expect(transferDecodings(binary, 'quoted-printable').map((d) => d.encoding)).toContain('quoted-printable');
  });
});
