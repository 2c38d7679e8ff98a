/**
 * Which container a byte string is, by its own magic numbers (never by name):
 * the formats we open and those we only recognise (so they can be reported
 * `unscannable` instead of passing as clean). Also finds zip structures
 * anywhere in the bytes, as unzip and 7-Zip do, because a zip appended to a
 * JPEG or an executable opens fine on the receiving side.
 * Pure and synchronous; it does not open anything.
 */

/** Opened by this package's own readers. */
export type NativeKind = 'zip' | 'gzip' | 'tar';
/** Opened with 7-Zip (WASM build); the value is 7-Zip's `-t` type name. */
export const SEVEN_ZIP_TYPES = {
  '7z': '7z', rar: 'Rar', rar5: 'Rar5', bzip2: 'bzip2', xz: 'xz', lzma: 'lzma', zstd: 'zstd', compress: 'Z',
  cab: 'Cab', arj: 'Arj', lzh: 'Lzh', cpio: 'Cpio', ar: 'Ar', rpm: 'Rpm', chm: 'Chm',
} as const;
export type SevenZipKind = keyof typeof SEVEN_ZIP_TYPES;
/** Recognised, not opened: always `unscannable`. */
export type UnopenedKind = 'lzip' | 'lz4' | 'ace';
export type ContainerKind = NativeKind | SevenZipKind | UnopenedKind;

/** Formats made of one compressed stream (one member, no names inside). */
export const SINGLE_STREAM_KINDS: ReadonlySet<ContainerKind> = new Set([
  'gzip', 'bzip2', 'xz', 'lzma', 'zstd', 'compress', 'lzip', 'lz4',
]);

export function isSevenZipKind(k: ContainerKind): k is SevenZipKind {
  return Object.hasOwn(SEVEN_ZIP_TYPES, k);
}

function at(d: Uint8Array, offset: number, bytes: Uint8Array): boolean {
  if (d.length < offset + bytes.length) return false;
  for (let i = 0; i < bytes.length; i++) if (d[offset + i] !== bytes[i]) return false;
  return true;
}

const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));

// Every magic number is built once here: containerKind runs on every part and member, and arrays built per call
// were most of its cost on plain media.
const PK_LOCAL = Uint8Array.of(0x50, 0x4b, 3, 4);
const PK_EOCD = Uint8Array.of(0x50, 0x4b, 5, 6);
const PK_SPANNED = Uint8Array.of(0x50, 0x4b, 7, 8);
const GZIP = Uint8Array.of(0x1f, 0x8b, 0x08);
const USTAR = ascii('ustar');
const SEVEN_Z = Uint8Array.of(0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c);
const RAR4 = Uint8Array.of(0x52, 0x61, 0x72, 0x21, 0x1a, 0x07, 0x00);
const RAR5 = Uint8Array.of(0x52, 0x61, 0x72, 0x21, 0x1a, 0x07, 0x01, 0x00);
const BZH = ascii('BZh');
const BZIP2_BLOCK = Uint8Array.of(0x31, 0x41, 0x59, 0x26, 0x53, 0x59);
const BZIP2_END = Uint8Array.of(0x17, 0x72, 0x45, 0x38, 0x50, 0x90);
const XZ = Uint8Array.of(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00);
const ZSTD = Uint8Array.of(0x28, 0xb5, 0x2f, 0xfd);
const COMPRESS = Uint8Array.of(0x1f, 0x9d);
const CAB = Uint8Array.of(0x4d, 0x53, 0x43, 0x46, 0, 0, 0, 0);
const ARJ = Uint8Array.of(0x60, 0xea);
const LZH_METHOD = ascii('-l');
const CPIO_BIN_LE = Uint8Array.of(0xc7, 0x71);
const CPIO_BIN_BE = Uint8Array.of(0x71, 0xc7);
const CPIO_NEWC = ascii('070701');
const CPIO_CRC = ascii('070702');
const CPIO_ODC = ascii('070707');
const AR = ascii('!<arch>\n');
const RPM = Uint8Array.of(0xed, 0xab, 0xee, 0xdb);
const CHM = Uint8Array.of(...ascii('ITSF'), 3, 0, 0, 0);
const LZIP = ascii('LZIP');
const LZ4 = Uint8Array.of(0x04, 0x22, 0x4d, 0x18);
const ACE = ascii('**ACE**');
const HEX_DIGITS = /^[0-9A-Fa-f]+$/;
const OCTAL_DIGITS = /^[0-7]+$/;

function octal(d: Uint8Array, from: number, len: number): number | null {
  let v = 0;
  let digits = 0;
  for (let i = from; i < from + len; i++) {
    const b = d[i] as number;
    if (b >= 0x30 && b <= 0x37) {
      v = v * 8 + (b - 0x30);
      digits++;
    } else if (b === 0 || b === 0x20) {
      if (digits > 0) break;
    } else return null;
  }
  return digits > 0 ? v : null;
}

/**
 * A tar header block at 0 whose checksum is right: ustar and GNU (magic at 257) and pre-POSIX v7 tar, which has no
 * magic at all. The checksum (sum of the 512 header bytes, the field itself read as spaces) makes a chance match
 * on other data negligible.
 */
export function isTarHeader(d: Uint8Array): boolean {
  if (d.length < 512 || d[0] === 0) return false;
  const stored = octal(d, 148, 8);
  if (stored === null) return false;
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : (d[i] as number);
  return sum === stored;
}

function isUstar(d: Uint8Array): boolean {
  return at(d, 257, USTAR);
}

function isBzip2(d: Uint8Array): boolean {
  if (!at(d, 0, BZH) || d.length < 10 || (d[3] as number) < 0x31 || (d[3] as number) > 0x39) return false;
  // A block (pi in BCD) or the end-of-stream mark (sqrt pi) follows the header.
  return at(d, 4, BZIP2_BLOCK) || at(d, 4, BZIP2_END);
}

/** LZMA-alone (.lzma) has no magic: properties byte 0x5D (the only one xz-utils and 7-Zip write), a sane size. */
function isLzmaAlone(d: Uint8Array): boolean {
  if (d.length < 13 || d[0] !== 0x5d || d[1] !== 0) return false;
  let sizeUnknown = true;
  for (let i = 5; i <= 12; i++) if (d[i] !== 0xff) sizeUnknown = false;
  return sizeUnknown || (d[12] === 0 && d[11] === 0);
}

/**
 * cpio: the binary header's 2-byte magic, or an ASCII header checked in full — `070701`/`070702` then 13 fields of 8
 * hex digits (newc), `070707` then 70 octal digits (odc) — so that a text part opening with a phone number such as
 * "0707012345…" is not taken for an archive (and refused as unscannable).
 */
function isCpio(d: Uint8Array): boolean {
  if (at(d, 0, CPIO_BIN_LE) || at(d, 0, CPIO_BIN_BE)) return true;
  const digits = (from: number, n: number, re: RegExp): boolean =>
    d.length >= from + n && re.test(Buffer.from(d.buffer, d.byteOffset + from, n).toString('latin1'));
  if (at(d, 0, CPIO_NEWC) || at(d, 0, CPIO_CRC)) return digits(6, 104, HEX_DIGITS);
  return at(d, 0, CPIO_ODC) && digits(6, 70, OCTAL_DIGITS);
}

/** ARJ: the 2-byte magic, then a basic header size no larger than ARJ allows (2600), so chance matches are rare. */
function isArj(d: Uint8Array): boolean {
  if (!at(d, 0, ARJ) || d.length < 4) return false;
  const size = (d[2] as number) | ((d[3] as number) << 8);
  return size > 0 && size <= 2600;
}

/** The container a byte string starts as, or null. */
export function containerKind(d: Uint8Array): ContainerKind | null {
  if (at(d, 0, PK_LOCAL) || at(d, 0, PK_EOCD) || at(d, 0, PK_SPANNED)) return 'zip';
  if (at(d, 0, GZIP)) return 'gzip';
  if (isUstar(d) || isTarHeader(d)) return 'tar';
  if (at(d, 0, SEVEN_Z)) return '7z';
  if (at(d, 0, RAR4)) return 'rar';
  if (at(d, 0, RAR5)) return 'rar5';
  if (isBzip2(d)) return 'bzip2';
  if (at(d, 0, XZ)) return 'xz';
  if (at(d, 0, ZSTD)) return 'zstd';
  if (at(d, 0, COMPRESS)) return 'compress';
  if (at(d, 0, CAB)) return 'cab';
  if (isArj(d)) return 'arj';
  if (at(d, 2, LZH_METHOD) && d[6] === 0x2d && (d[3] === 0x68 || d[3] === 0x7a)) return 'lzh';
  if (isCpio(d)) return 'cpio';
  if (at(d, 0, AR)) return 'ar';
  if (at(d, 0, RPM)) return 'rpm';
  if (at(d, 0, CHM)) return 'chm';
  if (at(d, 0, LZIP) && (d[4] === 0 || d[4] === 1)) return 'lzip'; // magic, then version 0 or 1
  if (at(d, 0, LZ4)) return 'lz4';
  if (at(d, 7, ACE)) return 'ace';
  if (isLzmaAlone(d)) return 'lzma';
  return null;
}

const PK = Uint8Array.of(0x50, 0x4b);
/** End-of-central-directory record plus the longest comment: where unzip looks for it. */
export const EOCD_SEARCH_BYTES = 22 + 0xffff;
/**
 * `PK` pairs followed up one by one before the rest of the part is left to two native searches. In media bytes
 * `PK` comes about once per 64 KiB, so the one pass below nearly always ends without reaching this; a part made
 * of `PKPKPK…` would otherwise cost one call per pair.
 */
const MAX_PK_FOLLOW_UPS = 16;

/**
 * True when zip structures appear anywhere in the bytes: an end-of-central-directory record near the end, or a
 * local file header anywhere; the zip reader decides whether they really parse. Every byte of a part is read here
 * (a zip appended to media must be found), so it is one native pass over the part for `PK`, each hit checked for
 * either signature, instead of one search per signature (which read the last 64 KiB twice).
 */
export function hasZipStructures(d: Uint8Array): boolean {
  const b = Buffer.from(d.buffer, d.byteOffset, d.byteLength);
  const eocdFrom = b.length - EOCD_SEARCH_BYTES;
  let i = b.indexOf(PK);
  for (let hits = 0; i >= 0; hits++) {
    if (hits === MAX_PK_FOLLOW_UPS) {
      return b.indexOf(PK_LOCAL, i) >= 0 || b.indexOf(PK_EOCD, Math.max(i, eocdFrom)) >= 0;
    }
    const c = b[i + 2];
    const e = b[i + 3];
    if (c === 3 && e === 4) return true;
    if (c === 5 && e === 6 && i >= eocdFrom) return true;
    i = b.indexOf(PK, i + 1);
  }
  return false;
}
