/**
 * The values a multipart entry's headers give a reader, gathered across
 * readers. A scanner sits between two parsers: whatever name or transfer
 * encoding any mainstream reader (this codec, Android's PduParser, MediaTek's
 * fork of it, mmsd, Wireshark) takes from the octets, the receiver may act on,
 * so the proxy must see every one of them, not the one we happen to prefer.
 *
 * Data and small pure helpers only; the readers live in part-headers.ts (ours,
 * plus mmsd's page-blind reading) and aosp-part-headers.ts (Android).
 */
import { decodeLooseText } from './reader.js';

export interface PartReadings {
  /** Transfer encodings, lower-case, e.g. 'base64', 'quoted-printable', '7bit'. */
  readonly transferEncodings: readonly string[];
  /** Content-Type `name` parameters. */
  readonly names: readonly string[];
  /** `filename` parameters (Content-Disposition, or Content-Type). */
  readonly filenames: readonly string[];
  readonly contentLocations: readonly string[];
  readonly contentIds: readonly string[];
}

export const NO_READINGS: PartReadings = Object.freeze({
  transferEncodings: [], names: [], filenames: [], contentLocations: [], contentIds: [],
});

const NONE: readonly string[] = Object.freeze([]);

/** Collects values in first-seen order, each once. Lists are made on first use (most parts fill one or two). */
export class ReadingsBuilder {
  // Fixed fields, not a keyed record: this runs for every part of every PDU.
  private te: string[] | null = null;
  private nm: string[] | null = null;
  private fn: string[] | null = null;
  private cl: string[] | null = null;
  private ci: string[] | null = null;

  add(field: keyof PartReadings, value: string): void {
    switch (field) {
      case 'transferEncodings':
        this.te = push(this.te, value);
        break;
      case 'names':
        this.nm = push(this.nm, value);
        break;
      case 'filenames':
        this.fn = push(this.fn, value);
        break;
      case 'contentLocations':
        this.cl = push(this.cl, value);
        break;
      case 'contentIds':
        this.ci = push(this.ci, value);
        break;
    }
  }

  addAll(from: PartReadings): void {
    for (const field of FIELDS) for (const v of from[field]) this.add(field, v);
  }

  finish(): PartReadings {
    if (this.te === null && this.nm === null && this.fn === null && this.cl === null && this.ci === null) {
      return NO_READINGS;
    }
    return {
      transferEncodings: this.te ?? NONE, names: this.nm ?? NONE, filenames: this.fn ?? NONE,
      contentLocations: this.cl ?? NONE, contentIds: this.ci ?? NONE,
    };
  }
}

function push(list: string[] | null, value: string): string[] {
  if (list === null) return [value];
  if (!list.includes(value)) list.push(value);
  return list;
}

export const FIELDS: readonly (keyof PartReadings)[] = [
  'transferEncodings', 'names', 'filenames', 'contentLocations', 'contentIds',
];

/** Encodings a receiver decodes before showing or saving the part. */
export const DECODING_ENCODINGS: ReadonlySet<string> = new Set(['base64', 'quoted-printable']);

/**
 * Characters outside ASCII whose Java simple case mapping lands on an ASCII
 * letter. Java's String.equalsIgnoreCase compares toUpperCase, then
 * toLowerCase, per UTF-16 unit, so Android's PduParser takes 'baſe64' (U+017F)
 * as "base64" and 'Encodıng' (U+0131) as "Encoding". This is the whole list.
 */
const JAVA_FOLDS: ReadonlyMap<number, number> = new Map([
  [0x0130, 0x69], // LATIN CAPITAL LETTER I WITH DOT ABOVE: toLowerCase is 'i'
  [0x0131, 0x69], // LATIN SMALL LETTER DOTLESS I: toUpperCase is 'I'
  [0x017f, 0x73], // LATIN SMALL LETTER LONG S: toUpperCase is 'S'
  [0x212a, 0x6b], // KELVIN SIGN: toLowerCase is 'k'
]);

function foldUnit(u: number): number {
  if (u >= 0x41 && u <= 0x5a) return u + 0x20;
  return JAVA_FOLDS.get(u) ?? u;
}

const utf8Lenient = new TextDecoder('utf-8', { ignoreBOM: true });

/**
 * Java's `asciiWord.equalsIgnoreCase(new String(bytes))` on Android, where the
 * default charset is UTF-8 (malformed input becomes U+FFFD, which matches no
 * ASCII letter). `asciiWord` must be lower-case ASCII.
 */
export function javaEqualsIgnoreCase(bytes: Uint8Array, asciiWord: string): boolean {
  // A UTF-8 character is at least one octet and at most one UTF-16 unit per octet here.
  if (bytes.length < asciiWord.length || bytes.length > asciiWord.length * 3) return false;
  const s = utf8Lenient.decode(bytes);
  if (s.length !== asciiWord.length) return false;
  for (let i = 0; i < s.length; i++) {
    if (foldUnit(s.charCodeAt(i)) !== asciiWord.charCodeAt(i)) return false;
  }
  return true;
}

/** How this codec names a transfer encoding it reads as text: trimmed, lower-case. */
export function encodingName(value: string): string {
  return value.trim().toLowerCase();
}

/** Text octets as a value string (the same decoding for every reader, so only real differences show). */
export function valueText(bytes: Uint8Array): string {
  return decodeLooseText(bytes);
}

/** For comparing readings only: quoting and case that no file-type decision depends on. */
function comparable(v: string): string {
  let s = v.trim();
  if (s.startsWith('"')) s = s.slice(1);
  if (s.endsWith('"')) s = s.slice(0, -1);
  return s.trim().toLowerCase();
}

/** Whether `list` holds `v`, or a value that differs from it only in what comparable() ignores. */
function holds(list: readonly string[], v: string): boolean {
  if (list.includes(v)) return true;
  const c = comparable(v);
  return list.some((x) => comparable(x) === c);
}

/**
 * The fields where `other` holds a value `own` lacks, or where `own` itself
 * holds two different transfer encodings. Empty when the readings agree.
 */
export function disagreements(own: PartReadings, other: PartReadings): (keyof PartReadings)[] {
  const out: (keyof PartReadings)[] = [];
  for (const field of FIELDS) {
    const mine = own[field];
    const first = mine[0];
    const twoEncodings = field === 'transferEncodings' && first !== undefined && !mine.every((e) => holds([first], e));
    if (twoEncodings || other[field].some((v) => !holds(mine, v))) out.push(field);
  }
  return out;
}
