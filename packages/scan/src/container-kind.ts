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

function at(d: Uint8Array, offset: number, bytes: readonly number[]): boolean {
  if (d.length < offset + bytes.length) return false;
  for (let i = 0; i < bytes.length; i++) if (d[offset + i] !== bytes[i]) return false;
  return true;
}

const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));

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
  return at(d, 257, ascii('ustar'));
}

function isBzip2(d: Uint8Array): boolean {
  if (!at(d, 0, ascii('BZh')) || d.length < 10 || (d[3] as number) < 0x31 || (d[3] as number) > 0x39) return false;
  // A block (pi in BCD) or the end-of-stream mark (sqrt pi) follows the header.
  return at(d, 4, [0x31, 0x41, 0x59, 0x26, 0x53, 0x59]) || at(d, 4, [0x17, 0x72, 0x45, 0x38, 0x50, 0x90]);
}

/** LZMA-alone (.lzma) has no magic: properties byte 0x5D (the only one xz-utils and 7-Zip write), a sane size. */
function isLzmaAlone(d: Uint8Array): boolean {
  if (d.length < 13 || d[0] !== 0x5d || d[1] !== 0) return false;
  const sizeUnknown = [5, 6, 7, 8, 9, 10, 11, 12].every((i) => d[i] === 0xff);
  return sizeUnknown || (d[12] === 0 && d[11] === 0);
}

/**
 * cpio: the binary header's 2-byte magic, or an ASCII header checked in full — `070701`/`070702` then 13 fields of 8
 * hex digits (newc), `070707` then 70 octal digits (odc) — so that a text part opening with a phone number such as
 * "0707012345…" is not taken for an archive (and refused as unscannable).
 */
function isCpio(d: Uint8Array): boolean {
  if (at(d, 0, [0xc7, 0x71]) || at(d, 0, [0x71, 0xc7])) return true;
  const digits = (from: number, n: number, re: RegExp): boolean =>
    d.length >= from + n && re.test(Buffer.from(d.buffer, d.byteOffset + from, n).toString('latin1'));
  if (at(d, 0, ascii('070701')) || at(d, 0, ascii('070702'))) return digits(6, 104, /^[0-9A-Fa-f]+$/);
  return at(d, 0, ascii('070707')) && digits(6, 70, /^[0-7]+$/);
}

/** ARJ: the 2-byte magic, then a basic header size no larger than ARJ allows (2600), so chance matches are rare. */
function isArj(d: Uint8Array): boolean {
  if (!at(d, 0, [0x60, 0xea]) || d.length < 4) return false;
  const size = (d[2] as number) | ((d[3] as number) << 8);
  return size > 0 && size <= 2600;
}

/** The container a byte string starts as, or null. */
export function containerKind(d: Uint8Array): ContainerKind | null {
  if (at(d, 0, [0x50, 0x4b]) && (at(d, 2, [3, 4]) || at(d, 2, [5, 6]) || at(d, 2, [7, 8]))) return 'zip';
  if (at(d, 0, [0x1f, 0x8b, 0x08])) return 'gzip';
  if (isUstar(d) || isTarHeader(d)) return 'tar';
  if (at(d, 0, [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c])) return '7z';
  if (at(d, 0, [0x52, 0x61, 0x72, 0x21, 0x1a, 0x07, 0x00])) return 'rar';
  if (at(d, 0, [0x52, 0x61, 0x72, 0x21, 0x1a, 0x07, 0x01, 0x00])) return 'rar5';
  if (isBzip2(d)) return 'bzip2';
  if (at(d, 0, [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])) return 'xz';
  if (at(d, 0, [0x28, 0xb5, 0x2f, 0xfd])) return 'zstd';
  if (at(d, 0, [0x1f, 0x9d])) return 'compress';
  if (at(d, 0, [0x4d, 0x53, 0x43, 0x46, 0, 0, 0, 0])) return 'cab';
  if (isArj(d)) return 'arj';
  if (at(d, 2, ascii('-l')) && d[6] === 0x2d && (d[3] === 0x68 || d[3] === 0x7a)) return 'lzh';
  if (isCpio(d)) return 'cpio';
  if (at(d, 0, ascii('!<arch>\n'))) return 'ar';
  if (at(d, 0, [0xed, 0xab, 0xee, 0xdb])) return 'rpm';
  if (at(d, 0, [...ascii('ITSF'), 3, 0, 0, 0])) return 'chm';
  if (at(d, 0, ascii('LZIP')) && (d[4] === 0 || d[4] === 1)) return 'lzip'; // magic, then version 0 or 1
  if (at(d, 0, [0x04, 0x22, 0x4d, 0x18])) return 'lz4';
  if (at(d, 7, ascii('**ACE**'))) return 'ace';
  if (isLzmaAlone(d)) return 'lzma';
  return null;
}

const EOCD_SIG = Buffer.from([0x50, 0x4b, 0x05, 0x06]);
const LOCAL_SIG = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
/** End-of-central-directory record plus the longest comment: where unzip looks for it. */
export const EOCD_SEARCH_BYTES = 22 + 0xffff;

/**
 * True when zip structures appear anywhere in the bytes: an end-of-central-directory record near the end, or a
 * local file header anywhere. Cheap (two Buffer.indexOf); the zip reader decides whether they really parse.
 */
export function hasZipStructures(d: Uint8Array): boolean {
  const b = Buffer.from(d.buffer, d.byteOffset, d.byteLength);
  return b.indexOf(EOCD_SIG, Math.max(0, b.length - EOCD_SEARCH_BYTES)) >= 0 || b.indexOf(LOCAL_SIG) >= 0;
}
