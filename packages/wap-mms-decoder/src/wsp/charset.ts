/**
 * Text in a declared charset (IANA MIBenum) to and from strings. Invalid
 * sequences decode to U+FFFD, never throw: a subject in a broken charset must
 * not stop a message from being scanned. Encoding supports the charsets
 * handsets write (UTF-8, US-ASCII, ISO-8859-1, UCS-2/UTF-16); others are an
 * encode error.
 */
import { encodeFail } from './writer.js';
import { CHARSETS, isUtf16 } from './tables.js';
import { decodeLatin1, decodeLooseText } from './reader.js';

const decoders = new Map<string, InstanceType<typeof TextDecoder>>();

function decoder(label: string): InstanceType<typeof TextDecoder> | undefined {
  let d = decoders.get(label);
  if (d === undefined) {
    try {
      // A UTF-8 BOM is kept as U+FEFF (it is part of the text as sent); UTF-16 BOMs are byte-order marks and go.
      d = new TextDecoder(label, { ignoreBOM: !label.startsWith('utf-16') });
    } catch {
      return undefined;
    }
    decoders.set(label, d);
  }
  return d;
}

function decodeAscii(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) {
    const c = b[i] as number;
    s += c < 0x80 ? String.fromCharCode(c) : '\ufffd';
  }
  return s;
}

/** Octets of a string value (terminator already removed) in charset `mib`. */
export function decodeCharsetText(b: Uint8Array, mib: number): string {
  if (mib === 3) return decodeAscii(b);
  // WHATWG maps the label iso-8859-1 to windows-1252; MMS means the real Latin-1.
  if (mib === 4) return decodeLatin1(b);
  if (isUtf16(mib)) {
    let label = mib === 1014 ? 'utf-16le' : 'utf-16be';
    if (b.length >= 2 && mib !== 1014 && b[0] === 0xff && b[1] === 0xfe) label = 'utf-16le';
    return (decoder(label) as InstanceType<typeof TextDecoder>).decode(b);
  }
  const def = CHARSETS.get(mib);
  const d = def?.label !== undefined ? decoder(def.label) : undefined;
  return d !== undefined ? d.decode(b) : decodeLooseText(b);
}

const utf8 = new TextEncoder();

function encodeSingleByte(s: string, max: number, what: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > max) encodeFail(`text has characters outside ${what}`);
    out[i] = c;
  }
  return out;
}

function encodeUtf16(s: string, littleEndian: boolean): Uint8Array {
  const out = new Uint8Array(s.length * 2);
  const view = new DataView(out.buffer);
  for (let i = 0; i < s.length; i++) view.setUint16(i * 2, s.charCodeAt(i), littleEndian);
  return out;
}

export function encodeCharsetText(s: string, mib: number): Uint8Array {
  switch (mib) {
    case 106:
      return utf8.encode(s);
    case 3:
      return encodeSingleByte(s, 0x7f, 'US-ASCII');
    case 4:
      return encodeSingleByte(s, 0xff, 'ISO-8859-1');
    case 1000:
    case 1013:
    case 1015:
      return encodeUtf16(s, false);
    case 1014:
      return encodeUtf16(s, true);
    default:
      return encodeFail(`cannot encode text in charset MIB ${mib}`);
  }
}
