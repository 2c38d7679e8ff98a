import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteReader, ByteWriter, MmsError, MmsErrorCode, readContentType, readEncodedString } from '../src/index.js';

const r = (...b: number[]): ByteReader => new ByteReader(Uint8Array.from(b));

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof MmsError) return e.code;
    throw e;
  }
  return 'no error';
}

describe('WSP primitives', () => {
  it('reads uintvars, including non-minimal padding', () => {
    expect(r(0x00).uintvar()).toBe(0);
    expect(r(0x81, 0x00).uintvar()).toBe(128);
    expect(r(0x83, 0x22).uintvar()).toBe(418);
    expect(r(0x80, 0x80, 0x0b).uintvar()).toBe(11);
    expect(r(0x8f, 0xff, 0xff, 0xff, 0x7f).uintvar()).toBe(0xffffffff);
  });

  it('refuses uintvars longer than 5 octets or above 32 bits', () => {
    expect(code(() => r(0x80, 0x80, 0x80, 0x80, 0x80, 0x01).uintvar())).toBe(MmsErrorCode.UINTVAR);
    expect(code(() => r(0x9f, 0xff, 0xff, 0xff, 0x7f).uintvar())).toBe(MmsErrorCode.UINTVAR);
    expect(code(() => r(0x81).uintvar())).toBe(MmsErrorCode.TRUNCATED);
  });

  it('round-trips uintvars and long integers through the writer', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (v) => {
        expect(new ByteReader(new ByteWriter().uintvar(v).finish()).uintvar()).toBe(v);
      }),
    );
    fc.assert(
      fc.property(fc.maxSafeNat(), (v) => {
        expect(new ByteReader(new ByteWriter().longInteger(v).finish()).longInteger()).toBe(v);
        expect(new ByteReader(new ByteWriter().integerValue(v).finish()).integerValue()).toBe(v);
      }),
    );
  });

  it('reads Value-length in short and Length-quote form and checks it against the octets present', () => {
    expect(r(0x03, 1, 2, 3).valueLength()).toBe(3);
    expect(r(0x1f, 0x01, 9).valueLength()).toBe(1);
    expect(code(() => r(0x05, 1, 2).valueLength())).toBe(MmsErrorCode.TRUNCATED);
  });

  it('reads a Long-integer of 5 octets (legal, though tshark and mmsd stop at 4)', () => {
    expect(r(0x05, 0x00, 0x65, 0x53, 0xf1, 0x00).longInteger()).toBe(1700000000);
  });

  it('refuses integers beyond 2^53 instead of rounding them', () => {
    const nine = r(0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
    expect(code(() => nine.longInteger())).toBe(MmsErrorCode.INTEGER_OVERFLOW);
  });

  it('strips the Quote octet of a Text-string and the quotes of a Quoted-string', () => {
    expect(r(0x7f, 0xc3, 0xa9, 0x00).textString()).toBe('é');
    expect(r(0x22, 0x3c, 0x61, 0x3e, 0x00).quotedString()).toBe('<a>');
    expect(r(0x22, 0x61, 0x22, 0x00).quotedString()).toBe('a');
  });

  it('decodes a UCS-2 Encoded-string-value that starts with 0x00 by its length, not a NUL scan', () => {
    // 1000 = 02 03 E8 ; "A" = 00 41 ; terminator 00 00
    expect(readEncodedString(r(0x07, 0x02, 0x03, 0xe8, 0x00, 0x41, 0x00, 0x00))).toEqual({ text: 'A', charset: 1000 });
  });

  it('decodes a UTF-8 Encoded-string-value without the Quote octet (Korean handsets)', () => {
    const text = Buffer.from('의료', 'utf8');
    expect(readEncodedString(r(text.length + 2, 0xea, ...text, 0x00))).toEqual({ text: '의료', charset: 106 });
  });

  it('decodes Latin-1 as ISO-8859-1, not windows-1252', () => {
    expect(readEncodedString(r(0x04, 0x84, 0x80, 0xe9, 0x00))).toEqual({ text: '\u0080é', charset: 4 });
  });

  it('skips any value by its first octet', () => {
    expect(r(0x85).skipValue()).toEqual(Uint8Array.of(0x85));
    expect(r(0x02, 1, 2, 9).skipValue()).toEqual(Uint8Array.of(2, 1, 2));
    expect(r(0x1f, 0x02, 1, 2).skipValue()).toEqual(Uint8Array.of(0x1f, 2, 1, 2));
    expect(r(0x61, 0x62, 0x00, 9).skipValue()).toEqual(Uint8Array.of(0x61, 0x62, 0));
  });

  it('reads constrained, textual and general Content-Types with typed and untyped parameters', () => {
    expect(readContentType(r(0x83), 8)).toEqual({ mediaType: 'text/plain', params: [] });
    expect(readContentType(r(...Buffer.from('audio/amr\0')), 8)).toEqual({ mediaType: 'audio/amr', params: [] });
    // general form: 0x33 related, Type 0x89 application/smil (text), Start 0x8A "<s>"
    const smil = Buffer.from('application/smil\0');
    const start = Buffer.from('<s>\0');
    const body = [0xb3, 0x89, ...smil, 0x8a, ...start];
    expect(readContentType(r(body.length, ...body), 8)).toEqual({
      mediaType: 'application/vnd.wap.multipart.related',
      params: [{ name: 'type', value: 'application/smil' }, { name: 'start', value: '<s>' }],
    });
    const untyped = [...Buffer.from('image/jpg\0charset\0iso-8859-1\0')];
    expect(readContentType(r(untyped.length, ...untyped), 8))
      .toEqual({ mediaType: 'image/jpg', params: [{ name: 'charset', value: 'iso-8859-1' }] });
  });
});
