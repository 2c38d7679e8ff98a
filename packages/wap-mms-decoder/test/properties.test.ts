/**
 * Properties of the codec: decode(encode(x)) == x on the canonical model;
 * totality (any bytes -> a PDU or an MmsError, nothing else, in bounded time).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MmsError, MmsErrorCode, decode, encode, type MmsHeader, type MmsPart, type PartInit } from '../src/index.js';
import { pdu } from './arbitraries.js';
import { CORPUS_MMS, HAVE_SHARED } from './shared.js';

function normHeader(h: MmsHeader): unknown {
  return h.type === 'well-known' ? { code: h.code, value: h.value } : h;
}

function normPart(p: PartInit | MmsPart): unknown {
  const children = 'children' in p && p.children !== null && p.children !== undefined ? p.children.map(normPart) : null;
  return {
    contentType: p.contentType,
    headers: p.headers ?? [],
    data: children === null ? Buffer.from(p.data).toString('hex') : null,
    children,
  };
}

/** What Android's getWapString keeps of a string: it drops C0 controls but HT, LF, CR, and DEL. */
function androidKeeps(v: string): string {
  return v.split('').filter((ch) => {
    const c = ch.charCodeAt(0);
    return !((c >= 0x01 && c <= 0x08) || c === 0x0b || c === 0x0c || (c >= 0x0e && c <= 0x1f) || c === 0x7f);
  }).join('');
}

/** How the codec compares two readings of a value (quoting, case and outer blanks decide no file type). */
function comparable(v: string): string {
  return v.trim().replace(/^"/, '').replace(/"$/, '').trim().toLowerCase();
}

/** Android reads the value as something else: without the octets it drops (and none at all if nothing is left). */
function readsOtherwise(v: string): boolean {
  const android = androidKeeps(v);
  return android.length > 0 && comparable(android) !== comparable(v);
}

/** Whether a value Android may read (Content-Location, Content-ID, the `name` parameter) reads differently there. */
function androidReadsOtherwise(parts: readonly PartInit[]): boolean {
  return parts.some((p) =>
    (p.headers ?? []).some((h) => (h.type === 'content-location' || h.type === 'content-id') && readsOtherwise(h.value))
    || p.contentType.params.some((q) => q.name === 'name' && typeof q.value === 'string' && readsOtherwise(q.value))
    || androidReadsOtherwise(p.children ?? []));
}

function totalDecode(bytes: Uint8Array): void {
  try {
    const r = decode(bytes);
    expect(r.messageType).toBeTypeOf('number');
  } catch (e) {
    if (!(e instanceof MmsError)) throw e;
    expect(e.code).toMatch(/^MMS_ERR_[A-Z_]+$/);
    expect(e.offset).toBeGreaterThanOrEqual(0);
    expect(e.offset).toBeLessThanOrEqual(bytes.length);
  }
}

const corpus = HAVE_SHARED
  ? readdirSync(CORPUS_MMS)
    .filter((f) => f.endsWith('.mms'))
    .map((f) => new Uint8Array(readFileSync(join(CORPUS_MMS, f))))
  : [];

/** One octet set, cut or inserted at a position (taken modulo the length). */
const edit = fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom<Edit[2]>('set', 'cut', 'insert'));

describe('codec properties', () => {
  it('decode(encode(x)) equals x for every canonical PDU', () => {
    fc.assert(
      fc.property(pdu, (model) => {
        const bytes = encode(model);
        const got = decode(bytes);
        // Clean, except that Android may read a value with a control octet without it (reported; when exactly:
        // part-headers.test.ts). No other issue, and that one only then.
        const ambiguous = model.parts !== null && androidReadsOtherwise(model.parts);
        const allowed = ambiguous ? [MmsErrorCode.PART_HEADERS_AMBIGUOUS] : [];
        for (const i of got.issues) expect(allowed).toContain(i.code);
        expect(got.headers.map(normHeader)).toEqual(model.headers.map(normHeader));
        expect(got.contentType).toEqual(model.contentType);
        if (model.parts !== null) expect((got.parts ?? []).map(normPart)).toEqual(model.parts.map(normPart));
        if (model.body !== null) expect(Buffer.from(got.body ?? []).equals(Buffer.from(model.body))).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('encode(decode(encode(x))) is byte-identical (the encoder is deterministic on its own output)', () => {
    fc.assert(
      fc.property(pdu, (model) => {
        const once = encode(model);
        const d = decode(once);
        const twice = encode({
          headers: d.headers, contentType: d.contentType,
          parts: d.parts?.map((p) => ({ ...p, rawHeaders: null })) ?? null, body: d.parts === null ? d.body : null,
        });
        expect(Buffer.from(twice).equals(Buffer.from(once))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('arbitrary bytes give a PDU or an MmsError, never another exception', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), (b) => totalDecode(b)), { numRuns: 20_000 });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (b) => totalDecode(Uint8Array.of(0x8c, ...b))),
      { numRuns: 20_000 },
    );
  });

  it('encoded PDUs with random octets flipped, cut or inserted decode totally', () => {
    fc.assert(
      fc.property(pdu, fc.array(edit, { minLength: 1, maxLength: 6 }), (model, edits) => {
        totalDecode(mutate(encode(model), edits));
      }),
      { numRuns: 3000 },
    );
  });

  it.skipIf(!HAVE_SHARED)('mutated corpus PDUs decode totally', () => {
    fc.assert(
      fc.property(fc.constantFrom(...corpus), fc.array(edit, { minLength: 1, maxLength: 8 }), (b, edits) => {
        totalDecode(mutate(b, edits));
      }),
      { numRuns: 3000 },
    );
  });
});

type Edit = [number, number, 'set' | 'cut' | 'insert'];

function mutate(src: Uint8Array, edits: Edit[]): Uint8Array {
  const b = Array.from(src);
  for (const [pos, val, op] of edits) {
    if (b.length === 0) break;
    const i = pos % b.length;
    if (op === 'set') b[i] = val;
    else if (op === 'cut') b.length = i;
    else b.splice(i, 0, val);
  }
  return Uint8Array.from(b);
}
