/**
 * Part headers the way every mainstream reader takes them (issue 14, class 1).
 * A base64 EICAR part whose Content-Transfer-Encoding only Android's PduParser
 * sees must still come out of partInfo() as base64, with the disagreement
 * reported; the reader never throws on damaged header octets; and the reading
 * of a header block does not depend on where it is cut or on the data after it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_LIMITS, MmsError, MmsErrorCode, decode, encode, partInfo, readMultipart, reencodeWithParts,
  type MmsHeader, type MmsPart, type MmsPdu, type PartHeader,
} from '../src/index.js';
import { javaEqualsIgnoreCase } from '../src/wsp/part-readings.js';
import { part as partArb } from './arbitraries.js';

const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';
const BASE64_EICAR = new TextEncoder().encode(Buffer.from(EICAR).toString('base64'));
const HEAD: MmsHeader[] = [{ type: 'well-known', code: 0x0c, name: '', value: { kind: 'octet', value: 0x80 } }];
const MIXED = { mediaType: 'application/vnd.wap.multipart.mixed', params: [] };
const OCTET_STREAM = { mediaType: 'application/octet-stream', params: [] };

/** Octets from strings (UTF-8, so '\u017f' is C5 BF) and numbers. */
function octets(...chunks: (string | number)[]): Uint8Array {
  const out: number[] = [];
  for (const c of chunks) {
    if (typeof c === 'number') out.push(c);
    else out.push(...new TextEncoder().encode(c));
  }
  return Uint8Array.from(out);
}

/** A Content-Type in the general form: Value-length, then `inner`. */
function general(...inner: (string | number)[]): number[] {
  const body = octets(...inner);
  expect(body.length).toBeLessThan(31);
  return [body.length, ...body];
}

/** A one-part m-send-req whose entry header block is exactly `block` (Content-Type first). */
function pduWithBlock(block: Uint8Array, data: Uint8Array = BASE64_EICAR): Uint8Array {
  return encode({ headers: HEAD, contentType: MIXED, parts: [{ contentType: OCTET_STREAM, data, rawHeaders: block }] });
}

/** The same, with the Content-Type written as text the way handsets write an unregistered type. */
function pduWithHeaders(headers: Uint8Array, data?: Uint8Array): Uint8Array {
  return pduWithBlock(Uint8Array.from([...octets('application/octet-stream', 0), ...headers]), data);
}

function onlyPart(bytes: Uint8Array): { pdu: MmsPdu; part: MmsPart } {
  const pdu = decode(bytes);
  expect(pdu.parts?.length, 'the entry survives whatever its headers hold').toBe(1);
  const part = (pdu.parts as MmsPart[])[0] as MmsPart;
  expect(Buffer.from(part.data).equals(Buffer.from(BASE64_EICAR)), 'part data').toBe(true);
  // Untouched parts re-encode as carried, whatever the codec made of their headers.
  expect(Buffer.from(reencodeWithParts(pdu, () => undefined)).equals(Buffer.from(bytes)), 're-encode').toBe(true);
  return { pdu, part };
}

const codes = (pdu: MmsPdu): string[] => pdu.issues.map((i) => i.code);
const CTE = 'Content-Transfer-Encoding';

describe('a Content-Transfer-Encoding that only Android reads is honoured and reported', () => {
  const cases: [string, Uint8Array][] = [
    ['the name quoted with 0x7F (regression: issue 14)', octets(0x7f, CTE, 0, 'base64', 0)],
    ['one stray text octet before the name (regression: issue 14)', octets('X', CTE, 0, 'base64', 0)],
    ['a stray octet and a 0x7F quote before the name', octets('X', 0x7f, CTE, 0, 'base64', 0)],
    ['control octets inside name and value (Android drops them)',
      octets('X', 'Content-\x01Transfer-Enc\x1foding', 0, 'ba\x7fse64', 0)],
    ['Java case folding: U+017F is an s, U+0131 an i',
      octets('X', 'content-tran\u017ffer-encod\u0131ng', 0, 'BA\u017fE64', 0)],
    ['a value that starts with a length octet (Android reads values as text)', octets('X', CTE, 0, 6, 'base64', 0)],
    ['after a Content-Disposition that is not one (carrier setting off)', octets(0xc5, 'X', CTE, 0, 'base64', 0)],
    ['after a Content-Disposition of length 0 (older AOSP reads on)', octets(0xc5, 0, 0x81, 'X', CTE, 0, 'base64', 0)],
    ['as MediaTek\'s 0xA7 Transfer-Encoding', octets(0xa7, 'base64', 0)],
    ['quoted-printable, folded with a dotted capital I', octets('X', CTE, 0, 'quoted-pr\u0130ntable', 0)],
  ];
  for (const [what, headers] of cases) {
    it(what, () => {
      const { pdu, part } = onlyPart(pduWithHeaders(headers));
      const info = partInfo(part);
      const want = what.startsWith('quoted') ? 'quoted-printable' : 'base64';
      expect(info.transferEncoding).toBe(want);
      expect(info.transferEncodings).toContain(want);
      expect(codes(pdu)).toContain(MmsErrorCode.PART_HEADERS_AMBIGUOUS);
    });
  }

  it('where a Content-Type name parameter runs past its Value-length, Android\'s headers start later', () => {
    // Value-length 3 covers image/jpeg and `name` 'a' with no NUL: Android reads the name on to the next NUL
    // ("aQ"), so its part headers start at 'X'. We read an application header Q whose value names CTE.
    const block = octets(0x03, 0x9e, 0x85, 'a', 'Q', 0, 'X', CTE, 0, 'base64', 0, 0);
    const { pdu, part } = onlyPart(pduWithBlock(block));
    const info = partInfo(part);
    expect(part.contentType.mediaType).toBe('image/jpeg');
    expect(part.headers[0]).toEqual({ type: 'application', name: 'Q', value: `X${CTE}` });
    expect(info.transferEncoding).toBe('base64');
    expect(info.names).toEqual(['a', 'aQ']);
    expect(codes(pdu)).toContain(MmsErrorCode.PART_HEADERS_AMBIGUOUS);
  });

  it('two Content-Transfer-Encodings: both listed, the decoding one chosen, in either order', () => {
    for (const [first, second] of [['binary', 'base64'], ['base64', 'binary']]) {
      const headers = octets(CTE, 0, first as string, 0, CTE, 0, second as string, 0);
      const { pdu, part } = onlyPart(pduWithHeaders(headers));
      const info = partInfo(part);
      expect(info.transferEncodings).toEqual([first, second]);
      expect(info.transferEncoding).toBe('base64');
      expect(codes(pdu)).toContain(MmsErrorCode.PART_HEADERS_AMBIGUOUS);
    }
  });
});

describe('the other part headers we expose, as every reader takes them', () => {
  it('a name with a control octet is also listed the way Android shows it', () => {
    const block = octets(...general(0x9e, 0x85, 'evil.e\x01xe', 0));
    const { pdu, part } = onlyPart(pduWithBlock(block));
    const info = partInfo(part);
    expect(info.name).toBe('evil.e\x01xe');
    expect(info.names).toEqual(['evil.e\x01xe', 'evil.exe']);
    expect(codes(pdu)).toContain(MmsErrorCode.PART_HEADERS_AMBIGUOUS);
  });

  it('a Content-Location on another code page is listed (mmsd reads it, Wireshark does not)', () => {
    const { pdu, part } = onlyPart(pduWithHeaders(octets(0x7f, 0x02, 0x8e, 'a.exe', 0)));
    const info = partInfo(part);
    expect(part.headers[0]).toEqual({ type: 'shift', page: 2, shortcut: false });
    expect(part.headers[1]).toMatchObject({ type: 'well-known', code: 0x0e, name: 'x-wsp-page-2-0x0e' });
    expect(info.contentLocation).toBeNull();
    expect(info.contentLocations).toEqual(['a.exe']);
    expect(codes(pdu)).toEqual([MmsErrorCode.BAD_HEADER, MmsErrorCode.PART_HEADERS_AMBIGUOUS]);
  });

  it('Android\'s Content-ID and WSP 1.4 filename are listed when only Android reads that far', () => {
    // A value that starts with a length octet: WSP frames 3 octets and then meets a NUL where a name must be
    // (and stops); Android reads the value as text to its NUL and reads on.
    const headers = octets('X', 'A', 0, 3, 'abc', 0, 0xc0, '"<x>', 0, 0xc5, 0x08, 0x81, 0x98, 'b.exe', 0);
    const { pdu, part } = onlyPart(pduWithHeaders(headers));
    const info = partInfo(part);
    expect(info.contentId).toBeNull();
    expect(info.filename).toBeNull();
    expect(info.contentIds).toEqual(['<x>']);
    expect(info.filenames).toEqual(['b.exe']);
    expect(codes(pdu)).toEqual([MmsErrorCode.BAD_HEADER, MmsErrorCode.PART_HEADERS_AMBIGUOUS]);
  });

  it('headers after a code-page shift are read on, and the shift is kept for re-encoding', () => {
    for (const shift of [[0x7f, 0x01], [0x05]]) {
      const { pdu, part } = onlyPart(pduWithHeaders(octets(...shift, CTE, 0, 'base64', 0, 0x8e, 'c.txt', 0)));
      const info = partInfo(part);
      expect(info.transferEncoding).toBe('base64');
      expect(codes(pdu)).toContain(MmsErrorCode.BAD_HEADER);
      // Re-encoded from the header list (not the raw octets), the block comes out the same.
      const again = encode({ headers: HEAD, contentType: MIXED, parts: [{ ...part, rawHeaders: null }] });
      const want = pduWithHeaders(octets(...shift, CTE, 0, 'base64', 0, 0x8e, 'c.txt', 0));
      expect(Buffer.from(again).equals(Buffer.from(want))).toBe(true);
    }
  });
});

describe('what the readings agree on raises no alarm', () => {
  it('a well-formed Content-Transfer-Encoding is ours alone (Android skips it) and no issue', () => {
    const { pdu, part } = onlyPart(pduWithHeaders(octets(CTE, 0, 'base64', 0)));
    expect(partInfo(part).transferEncodings).toEqual(['base64']);
    expect(part.otherReadings.transferEncodings).toEqual([]);
    expect(pdu.issues).toEqual([]);
  });

  it('Content-Location, Content-ID, name and filename read alike by both readers', () => {
    const block = octets(...general(0x9e, 0x85, 'p.jpg', 0), 0x8e, 'p.jpg', 0, 0xc0, '"<p>', 0, 0xc5, 0x08, 0x81, 0x98,
      'p.jpg', 0);
    const { pdu, part } = onlyPart(pduWithBlock(block));
    expect(part.otherReadings).toEqual({
      transferEncodings: [], names: ['p.jpg'], filenames: ['p.jpg'], contentLocations: ['p.jpg'], contentIds: ['<p>'],
    });
    expect(pdu.issues).toEqual([]);
  });
});

describe('the disagreement issue is exact', () => {
  /** How the codec compares readings (quotes, case, outer blanks). */
  const comparable = (v: string): string => v.trim().replace(/^"/, '').replace(/"$/, '').trim().toLowerCase();
  const controls = fc.constantFrom(...'\x01\x02\x08\x0b\x0c\x0e\x1b\x1f\x7f\t\r\n'.split(''));
  const pieces = fc.array(fc.oneof(fc.string({ maxLength: 4 }), controls), { maxLength: 8 }).map((a) => a.join(''));

  it('a Content-Location or name is reported iff Android reads it as something else', () => {
    fc.assert(
      fc.property(pieces.filter((v) => v.length > 0 && !v.includes('\0') && v.charCodeAt(0) >= 0x20), fc.boolean(),
        (v, asName) => {
          // A name starting with '"' is written as an untyped parameter, which Android skips unread.
          fc.pre(!(asName && v.startsWith('"')));
          const part = asName
            ? { contentType: { ...OCTET_STREAM, params: [{ name: 'name', value: v }] }, headers: [] }
            : { contentType: OCTET_STREAM, headers: [{ type: 'content-location' as const, value: v }] };
          const pdu = decode(encode({ headers: HEAD, contentType: MIXED, parts: [{ ...part, data: BASE64_EICAR }] }));
          const android = androidKeeps(v);
          const differs = android.length > 0 && comparable(android) !== comparable(v);
          expect(codes(pdu)).toEqual(differs ? [MmsErrorCode.PART_HEADERS_AMBIGUOUS] : []);
          const info = partInfo((pdu.parts as MmsPart[])[0] as MmsPart);
          if (android.length > 0) expect(asName ? info.names : info.contentLocations).toContain(android);
        }),
      { numRuns: 2000 },
    );
  });
});

describe('Java equalsIgnoreCase on Android', () => {
  it('folds exactly the four non-ASCII characters whose simple case maps to ASCII', () => {
    const eq = (s: string, w: string): boolean => javaEqualsIgnoreCase(new TextEncoder().encode(s), w);
    expect(eq('BASE64', 'base64')).toBe(true);
    expect(eq('ba\u017fe64', 'base64')).toBe(true);
    expect(eq('\u212aa', 'ka')).toBe(true);
    expect(eq('\u0130\u0131', 'ii')).toBe(true);
    expect(eq('base64 ', 'base64')).toBe(false);
    expect(eq('ba\u00dfe64', 'base64')).toBe(false);
    expect(eq('bas\u0435\u0036\u0034', 'base64')).toBe(false); // Cyrillic ie is no e
    expect(javaEqualsIgnoreCase(Uint8Array.of(0x62, 0x61, 0xff, 0x65, 0x36, 0x34), 'base64')).toBe(false);
  });
});

/** What Android's getWapString keeps of a string: it drops C0 controls but HT, LF, CR, and DEL. */
function androidKeeps(v: string): string {
  return v.split('').filter((ch) => {
    const c = ch.charCodeAt(0);
    return !((c >= 0x01 && c <= 0x08) || c === 0x0b || c === 0x0c || (c >= 0x0e && c <= 0x1f) || c === 0x7f);
  }).join('');
}

/** Decodes or throws only a limit error; returns the PDU. */
function decodeTotal(bytes: Uint8Array): MmsPdu | null {
  try {
    return decode(bytes);
  } catch (e) {
    if (e instanceof MmsError && e.code === MmsErrorCode.LIMIT) return null;
    throw e;
  }
}

/** Every unparsed range has an issue that says why, found inside it. */
function everyGapExplained(pdu: MmsPdu): void {
  for (const u of pdu.unparsed) {
    const explained = pdu.issues.some((i) => i.offset >= u.offset && i.offset <= u.offset + u.length);
    expect(explained, `unparsed ${u.offset}+${u.length} without an issue`).toBe(true);
  }
}

/** What a part's readings are, for comparing two decodes. */
function readings(p: MmsPart): unknown {
  const { name, filename, contentLocation, contentId, disposition, charset, ...lists } = partInfo(p);
  const scalars = [name, filename, contentLocation, contentId, disposition, charset];
  return { headers: p.headers.map(hexRaw), lists, scalars };
}

function hexRaw(h: PartHeader): unknown {
  return h.type === 'well-known' ? { ...h, raw: Buffer.from(h.raw).toString('hex') } : h;
}

const blockOctets = fc.uint8Array({ minLength: 1, maxLength: 300 });
/** Header octets that look like headers: mostly text, NULs, shifts and the codes readers care about. */
const headerish = fc.array(
  fc.oneof(
    fc.integer({ min: 0, max: 255 }),
    fc.constantFrom(0x00, 0x7f, 0x05, 0x1f, 0x22, 0x8e, 0xc0, 0xc5, 0xae, 0xa7, 0xc8, 0x85, 0x97, 0x98, 0x81),
    fc.constantFrom(...'XContent-Transfer-Encoding base64 a.exe'.split('')).map((c) => c.charCodeAt(0)),
  ),
  { minLength: 1, maxLength: 200 },
).map((a) => Uint8Array.from(a));

describe('the part-header reader is total', () => {
  it('any header block: the entry and its data survive, nothing but a limit is thrown, every gap has an issue', () => {
    fc.assert(
      fc.property(fc.oneof(blockOctets, headerish), (block) => {
        const pdu = decodeTotal(pduWithBlock(block));
        if (pdu === null) return;
        expect(pdu.parts?.length).toBe(1);
        const part = (pdu.parts as MmsPart[])[0] as MmsPart;
        expect(Buffer.from(part.data).equals(Buffer.from(BASE64_EICAR))).toBe(true);
        expect(part.rawHeaders !== null && Buffer.from(part.rawHeaders).equals(Buffer.from(block))).toBe(true);
        everyGapExplained(pdu);
        for (const u of pdu.unparsed) {
          const inBlock = u.offset >= part.offset && u.offset + u.length <= part.dataOffset;
          expect(inBlock, 'gaps stay in the block').toBe(true);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('encoded parts with octets of their header block flipped, cut or inserted keep every entry', () => {
    const edit = fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set', 'cut', 'insert'));
    fc.assert(
      fc.property(fc.array(partArb, { minLength: 1, maxLength: 3 }), fc.nat(),
        fc.array(edit, { minLength: 1, maxLength: 6 }),
        (parts, which, edits) => {
          const clean = decode(encode({ headers: HEAD, contentType: MIXED, parts }));
          const top = clean.parts as MmsPart[];
          const i = which % top.length;
          const target = top[i] as MmsPart;
          const block = Array.from(target.rawHeaders ?? []);
          for (const [pos, val, op] of edits) {
            const at = block.length === 0 ? 0 : pos % (block.length + (op === 'insert' ? 1 : 0));
            if (op === 'set' && block.length > 0) block[at] = val;
            else if (op === 'cut') block.splice(at, 1);
            else block.splice(at, 0, val);
          }
          const bytes = reencodeWithParts(clean, (p, path) =>
            path.length === 1 && path[0] === i
              ? { contentType: p.contentType, data: p.data, children: null, rawHeaders: Uint8Array.from(block) }
              : undefined);
          const pdu = decodeTotal(bytes);
          if (pdu === null) return;
          expect(pdu.parts?.length, 'entries').toBe(top.length);
          (pdu.parts as MmsPart[]).forEach((p, k) => {
            expect(Buffer.from(p.data).equals(Buffer.from((top[k] as MmsPart).data)), `part ${k} data`).toBe(true);
          });
          everyGapExplained(pdu);
        }),
      { numRuns: 1500 },
    );
  });

  it('an empty header block (HeadersLen 0) is an entry with no Content-Type, an issue, and no empty gap', () => {
    const pdu = decode(pduWithBlock(new Uint8Array(0)));
    expect(pdu.parts?.length).toBe(1);
    expect((pdu.parts as MmsPart[])[0]?.contentType).toEqual({ mediaType: '', params: [] });
    expect(codes(pdu)).toEqual([MmsErrorCode.TRUNCATED]);
    expect(pdu.unparsed).toEqual([]);
  });

  it('readMultipart itself never throws anything but MmsError on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (b) => {
        try {
          readMultipart(b, 0, b.length, DEFAULT_LIMITS);
        } catch (e) {
          expect(e).toBeInstanceOf(MmsError);
        }
      }),
      { numRuns: 5000 },
    );
  });
});

describe('split points: a block reads the same wherever it sits', () => {
  const attacks = [
    octets(0x7f, CTE, 0, 'base64', 0),
    octets('X', CTE, 0, 'base64', 0),
    octets(0xc5, 0, 0x81, 'X', CTE, 0, 'base64', 0, 0x8e, 'a.exe', 0),
  ];

  it('cut at every octet (the rest becomes data), each prefix decodes to one part with the rest as data', () => {
    for (const headers of attacks) {
      const whole = Uint8Array.from([...octets('application/octet-stream', 0), ...headers]);
      for (let k = 1; k <= whole.length; k++) {
        const data = Uint8Array.from([...whole.subarray(k), ...BASE64_EICAR]);
        const pdu = decode(pduWithBlock(whole.subarray(0, k), data));
        const part = (pdu.parts as MmsPart[])[0] as MmsPart;
        expect(Buffer.from(part.data).equals(Buffer.from(data)), `cut at ${k}`).toBe(true);
        everyGapExplained(pdu);
        if (k === whole.length) expect(partInfo(part).transferEncoding).toBe('base64');
      }
    }
  });

  it('the reading of a header block does not depend on the data after it, nor on what follows the part', () => {
    fc.assert(
      fc.property(fc.oneof(headerish, blockOctets), fc.uint8Array({ minLength: 1, maxLength: 64 }),
        fc.uint8Array({ minLength: 1, maxLength: 64 }), (block, d1, d2) => {
          const a = decodeTotal(pduWithBlock(block, d1));
          const b = decodeTotal(pduWithBlock(block, d2));
          if (a === null || b === null) {
            expect(a === null && b === null, 'a limit is a property of the block').toBe(true);
            return;
          }
          const pa = (a.parts as MmsPart[])[0] as MmsPart;
          const pb = (b.parts as MmsPart[])[0] as MmsPart;
          expect(readings(pb)).toEqual(readings(pa));
          // Issues about the block (a multipart media type makes the data nested entries, with issues of their own).
          const about = (x: MmsPdu, p: MmsPart): unknown => x.issues.filter((i) => i.offset < p.dataOffset);
          expect(about(b, pb)).toEqual(about(a, pa));
        }),
      { numRuns: 2000 },
    );
  });
});
