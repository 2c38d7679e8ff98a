import { describe, expect, it } from 'vitest';
import { MmsError, MmsErrorCode, decode, encode, textPart, type PartInit } from '../src/index.js';

const head = [{ type: 'well-known' as const, code: 0x0c, name: '', value: { kind: 'octet' as const, value: 0x80 } }];
const mixed = { mediaType: 'application/vnd.wap.multipart.mixed', params: [] };

function errorCode(b: Uint8Array, limits?: Parameters<typeof decode>[1]): string | null {
  try {
    decode(b, limits);
    return null;
  } catch (e) {
    return e instanceof MmsError ? e.code : 'other';
  }
}

describe('decode limits stop the attacks they name', () => {
  it('refuses more parts than maxParts (entry floods)', () => {
    const parts = Array.from({ length: 20 }, () => textPart('x', 'x.txt'));
    const b = encode({ headers: head, contentType: mixed, parts });
    expect(errorCode(b, { maxParts: 10 })).toBe(MmsErrorCode.LIMIT);
    expect(errorCode(b, { maxParts: 20 })).toBeNull();
  });

  it('refuses multiparts nested deeper than maxDepth (recursion bombs)', () => {
    let p: PartInit = textPart('deep', 'd.txt');
    for (let i = 0; i < 12; i++) p = { contentType: mixed, headers: [], data: new Uint8Array(0), children: [p] };
    const b = encode({ headers: head, contentType: mixed, parts: [p] });
    expect(errorCode(b)).toBe(MmsErrorCode.LIMIT);
    expect(errorCode(b, { maxDepth: 20 })).toBeNull();
  });

  it('refuses header floods and over-long strings', () => {
    const flood = Array.from({ length: 50 }, () => ({ type: 'application' as const, name: 'X-a', value: 'b' }));
    const many = [...head, ...flood];
    expect(errorCode(encode({ headers: many }), { maxHeaders: 20 })).toBe(MmsErrorCode.LIMIT);
    const long = [...head, { type: 'application' as const, name: 'X-a', value: 'b'.repeat(5000) }];
    expect(errorCode(encode({ headers: long }), { maxStringBytes: 1000 })).toBe(MmsErrorCode.LIMIT);
  });

  it('keeps the octets present and flags a part whose DataLen runs past the end', () => {
    const b = encode({ headers: head, contentType: mixed, parts: [textPart('hello world', 'a.txt')] });
    const cut = b.subarray(0, b.length - 4);
    const pdu = decode(cut);
    expect(pdu.parts?.[0]?.truncated).toBe(true);
    expect(pdu.parts?.[0]?.data.length).toBe(7);
    expect(pdu.issues.map((i) => i.code)).toContain(MmsErrorCode.TRUNCATED);
  });

  it('reports octets after the declared entries as unparsed, so they are still scanned', () => {
    const parts = [textPart('one', 'a.txt'), textPart('two', 'b.txt')];
    const b = encode({ headers: head, contentType: mixed, parts });
    const bodyStart = b.indexOf(0x02, b.indexOf(0x84) + 2); // nEntries, right after Content-Type 84 A3
    const lied = Uint8Array.from(b);
    lied[bodyStart] = 0x01;
    const pdu = decode(lied);
    expect(pdu.parts?.length).toBe(1);
    expect(pdu.unparsed.length).toBe(1);
    expect(pdu.unparsed[0]!.offset + pdu.unparsed[0]!.length).toBe(b.length);
  });

  it('rejects input that is not an MMS PDU at offset 0', () => {
    expect(errorCode(Buffer.from('This is not a valid m-Retrieve.conf PDU\n'))).toBe(MmsErrorCode.NOT_MMS);
    expect(errorCode(new Uint8Array(0))).toBe(MmsErrorCode.NOT_MMS);
  });
});
