/**
 * How Android reads one multipart entry's header block, octet for octet:
 * AOSP's com.google.android.mms.pdu.PduParser (parseParts -> parseContentType
 * -> parseContentTypeParams -> parsePartHeaders, unchanged from Android 1 to
 * the current frameworks/opt/mms), with MediaTek's MtkPduParser extension
 * (0xA7 Transfer-Encoding read as Content-Transfer-Encoding). It only gathers
 * the values a handset acts on (transfer encoding, name, filename,
 * Content-Location, Content-ID); it builds no part and never throws except
 * for our own limit.
 *
 * Why emulate rather than parse well: PduParser reads differently from WSP,
 * and a scanner that reads WSP misses what the handset decodes:
 * - An application header's first octet is consumed as the "header" octet and
 *   the name is read from the next one, so `X` + "Content-Transfer-Encoding"
 *   or 0x7F + "Content-Transfer-Encoding" is a Content-Transfer-Encoding, and
 *   a correctly written one is not.
 * - Strings drop every octet that is not TEXT (controls, 0x7F) instead of
 *   ending at them, and names compare with Java's equalsIgnoreCase on UTF-8
 *   (U+017F 'ſ' is an 's', U+0131 'ı' an 'i').
 * - Values are read as text whatever their first octet (no Value-length).
 * - An unknown well-known header, or any octet below 0x20, ends the block:
 *   nothing after it is read. Content-Disposition is parsed, or (carrier
 *   setting config_mms_content_disposition_support off) not even skipped, so
 *   its value is read as the next headers: both settings are emulated.
 * - Content-Type parameter strings run to the next NUL, past the
 *   Content-Type's Value-length, which moves where the headers start.
 *
 * When Android would read past the entry's header block it rejects the whole
 * message (partHeaderLen < 0, or lastLen != 0), so the emulation stops there:
 * values after that point reach no user. Values read before it are kept: a
 * reading too many costs one more scan, one too few lets content through.
 */
import { MmsError, MmsErrorCode } from '../errors.js';
import type { DecodeLimits } from '../limits.js';
import { type ReadingsBuilder, javaEqualsIgnoreCase, valueText } from './part-readings.js';

/** Android gives up on the message here; what it read so far is in the builder. */
const REJECTED = new Error('Android rejects the message here');

const QUOTE = 0x7f;
const QUOTED_STRING_FLAG = 0x22;
/** PduContentTypes.contentTypes.length: well-known media codes Android can name. */
const ANDROID_CONTENT_TYPES = 0x53;

const enum StringType {
  Text,
  Quoted,
}

/** java.io.ByteArrayInputStream over the PDU, cut at the entry's header block. */
class JavaStream {
  pos: number;
  private markPos: number;

  constructor(
    readonly buf: Uint8Array,
    start: number,
    readonly end: number,
    /** The block ends where Android's stream ends (reads give -1 there), not where the part data begin. */
    readonly eofAtEnd: boolean,
  ) {
    this.pos = start;
    this.markPos = start;
  }

  read(): number {
    if (this.pos < this.end) return this.buf[this.pos++] as number;
    // Past the block Android reads the part data, and then fails its length check. (A mere peek there,
    // undone by reset(), can only happen at the end of the block, where no header follows to read.)
    if (!this.eofAtEnd) throw REJECTED;
    return -1;
  }

  available(): number {
    return this.end - this.pos;
  }

  mark(): void {
    this.markPos = this.pos;
  }

  reset(): void {
    this.pos = this.markPos;
  }

  /** read(byte[], 0, n): true when all n octets were there (skipWapValue's check). */
  skip(n: number): boolean {
    if (n <= this.available()) {
      this.pos += n;
      return true;
    }
    if (!this.eofAtEnd) throw REJECTED;
    this.pos = this.end;
    return false;
  }
}

/** PduParser.isText: TEXT of RFC 2616 plus HT, LF, CR. Everything else is dropped, not a terminator. */
function isText(ch: number): boolean {
  return (ch >= 32 && ch <= 126) || (ch >= 128 && ch <= 255) || ch === 9 || ch === 10 || ch === 13;
}

/** parseWapString + getWapString: null for an empty string (callers that wrap it in new String() then fail). */
function wapString(s: JavaStream, type: StringType, maxString: number): Uint8Array | null {
  s.mark();
  const first = s.read();
  const skip = type === StringType.Quoted ? QUOTED_STRING_FLAG : QUOTE;
  if (first !== skip) s.reset();
  const start = s.pos;
  let dropped = false;
  let ch = s.read();
  while (ch !== -1 && ch !== 0) {
    if (!isText(ch)) dropped = true;
    ch = s.read();
  }
  // Read on to the NUL (it decides where Android stands); keep what can matter, a view when nothing was dropped.
  const end = ch === 0 ? s.pos - 1 : s.pos;
  if (!dropped) return end > start ? s.buf.subarray(start, Math.min(end, start + maxString)) : null;
  const out: number[] = [];
  for (let i = start; i < end && out.length < maxString; i++) {
    const c = s.buf[i] as number;
    if (isText(c)) out.push(c);
  }
  return out.length > 0 ? Uint8Array.from(out) : null;
}

/** parseUnsignedInt: no five-octet limit, Java int arithmetic. */
function unsignedInt(s: JavaStream): number {
  let result = 0;
  let t = s.read();
  if (t === -1) return -1;
  while ((t & 0x80) !== 0) {
    result = (result << 7) | (t & 0x7f);
    t = s.read();
    if (t === -1) return -1;
  }
  return (result << 7) | (t & 0x7f);
}

/** parseValueLength: throws (a RuntimeException in Java) above 31. */
function valueLength(s: JavaStream): number {
  const first = s.read() & 0xff;
  if (first <= 30) return first;
  if (first === 31) return unsignedInt(s);
  throw REJECTED;
}

/** parseIntegerValue, for its consumption only. */
function integerValue(s: JavaStream): void {
  s.mark();
  const t = s.read();
  s.reset();
  if (t > 0x7f) {
    s.read();
    return;
  }
  const count = s.read() & 0xff;
  if (count > 8) throw REJECTED;
  for (let i = 0; i < count; i++) s.read();
}

/** A Content-Transfer-Encoding value as Android compares it (parseParts: equalsIgnoreCase). */
function addEncoding(out: ReadingsBuilder, value: Uint8Array): void {
  // Anything else Android leaves as it is ("binary"): no decoding, nothing more to scan.
  if (javaEqualsIgnoreCase(value, 'base64')) out.add('transferEncodings', 'base64');
  else if (javaEqualsIgnoreCase(value, 'quoted-printable')) out.add('transferEncodings', 'quoted-printable');
}

/** One reading of one block: the stream, where values go, and the limits that bound it (one object per pass). */
class Pass extends JavaStream {
  private readonly at: number;
  private left: number;
  sawDisposition = false;

  constructor(
    buf: Uint8Array, start: number, end: number, streamEnd: number,
    readonly out: ReadingsBuilder,
    private readonly limits: DecodeLimits,
    readonly parseDisposition: boolean,
  ) {
    super(buf, start, end, end >= streamEnd);
    this.at = start;
    this.left = limits.maxHeaders;
  }

  get maxString(): number {
    return this.limits.maxStringBytes;
  }

  /** Android's framing can see many more headers than ours in the same octets: the same limit applies. */
  spend(): void {
    if (--this.left < 0) {
      throw new MmsError(MmsErrorCode.LIMIT, `more than ${this.limits.maxHeaders} part headers as Android reads them`,
        this.at);
    }
  }
}

/** parseContentTypeParams: only `name` matters (0x85 and 0x97; the last one wins, all are kept). */
function params(s: Pass, length: number): void {
  const startAvail = s.available();
  let lastLen = length;
  while (lastLen > 0) {
    s.spend();
    const param = s.read();
    lastLen--;
    if (param === -1) return;
    switch (param) {
      case 0x83: // type
      case 0x89: {
        s.mark();
        const first = s.read() & 0xff;
        s.reset();
        if (first > 0x7f) s.read();
        else wapString(s, StringType.Text, s.maxString);
        lastLen = length - (startAvail - s.available());
        break;
      }
      case 0x99: // start
      case 0x8a:
        wapString(s, StringType.Text, s.maxString);
        lastLen = length - (startAvail - s.available());
        break;
      case 0x81: { // charset
        s.mark();
        const first = s.read() & 0xff;
        s.reset();
        if ((first > 0x20 && first < 0x7f) || first === 0) {
          // new String(null) for an empty charset name.
          if (wapString(s, StringType.Text, s.maxString) === null) throw REJECTED;
        } else {
          integerValue(s);
        }
        lastLen = length - (startAvail - s.available());
        break;
      }
      case 0x97: // name
      case 0x85: {
        const name = wapString(s, StringType.Text, s.maxString);
        if (name !== null) s.out.add('names', valueText(name));
        lastLen = length - (startAvail - s.available());
        break;
      }
      default:
        // Any other parameter: the rest of the parameters is skipped unread.
        if (s.skip(lastLen)) lastLen = 0;
        break;
    }
  }
}

/** parseContentType, for where it leaves the stream and the name parameters it sees. */
function contentType(s: Pass): void {
  s.mark();
  const cur = s.read() & 0xff;
  s.reset();
  if (cur < 0x20) {
    const length = valueLength(s);
    const startAvail = s.available();
    s.mark();
    const first = s.read() & 0xff;
    s.reset();
    if (first >= 0x20 && first <= 0x7f) {
      wapString(s, StringType.Text, s.maxString);
    } else if (first > 0x7f) {
      if ((s.read() & 0x7f) >= ANDROID_CONTENT_TYPES) {
        s.reset();
        wapString(s, StringType.Text, s.maxString);
      }
    } else {
      // "Corrupt content-type": */*, and the rest of the value is read as part headers.
      return;
    }
    const paramLen = length - (startAvail - s.available());
    if (paramLen > 0) params(s, paramLen);
  } else if (cur <= 0x7f) {
    wapString(s, StringType.Text, s.maxString);
  } else if ((s.read() & 0x7f) >= ANDROID_CONTENT_TYPES) {
    throw REJECTED; // contentTypes[index]: ArrayIndexOutOfBoundsException
  }
}

/** The Content-Disposition branch of parsePartHeaders (carrier setting on). */
function disposition(s: Pass): void {
  const len = valueLength(s);
  s.mark();
  const thisStart = s.available();
  const value = s.read();
  if (value !== 0x80 && value !== 0x81 && value !== 0x82) {
    s.reset();
    if (wapString(s, StringType.Text, s.maxString) === null) throw REJECTED; // setContentDisposition(null)
  }
  if (thisStart - s.available() < len) {
    // Only a first parameter of 0x98 (WSP 1.4 filename) is read; 0x86 is not.
    if (s.read() === 0x98) {
      const filename = wapString(s, StringType.Text, s.maxString);
      if (filename === null) throw REJECTED; // setFilename(null)
      s.out.add('filenames', valueText(filename));
    }
    const consumed = thisStart - s.available();
    if (consumed < len) s.skip(len - consumed);
  }
}

/** parsePartHeaders over `length` octets. */
function partHeaders(s: Pass, length: number): void {
  const startAvail = s.available();
  let lastLen = length;
  while (lastLen > 0) {
    s.spend();
    const header = s.read();
    lastLen--;
    if (header > 0x7f) {
      switch (header) {
        case 0x8e: { // Content-Location
          const v = wapString(s, StringType.Text, s.maxString);
          if (v !== null) s.out.add('contentLocations', valueText(v));
          lastLen = length - (startAvail - s.available());
          break;
        }
        case 0xc0: { // Content-ID
          const v = wapString(s, StringType.Quoted, s.maxString);
          if (v !== null) s.out.add('contentIds', valueText(v));
          lastLen = length - (startAvail - s.available());
          break;
        }
        case 0xae: // Content-Disposition (WSP 1.1-1.3, 1.4)
        case 0xc5:
          s.sawDisposition = true;
          if (s.parseDisposition) {
            disposition(s);
            lastLen = length - (startAvail - s.available());
          }
          // Setting off: the value is not consumed and is read as the next headers.
          break;
        case 0xa7: { // MediaTek: Transfer-Encoding taken as Content-Transfer-Encoding (AOSP stops here)
          const v = wapString(s, StringType.Text, s.maxString);
          if (v !== null) addEncoding(s.out, v);
          lastLen = length - (startAvail - s.available());
          break;
        }
        default:
          // Any other well-known header: the rest of the block is skipped unread.
          if (!s.skip(lastLen)) throw REJECTED;
          lastLen = 0;
          break;
      }
    } else if (header >= 0x20) {
      // 0x20-0x7F: the octet just read is lost, the name starts after it.
      const name = wapString(s, StringType.Text, s.maxString);
      const value = wapString(s, StringType.Text, s.maxString);
      if (name === null) throw REJECTED; // new String(null)
      if (javaEqualsIgnoreCase(name, 'content-transfer-encoding')) {
        if (value === null) throw REJECTED; // setContentTransferEncoding(null)
        addEncoding(s.out, value);
      }
      lastLen = length - (startAvail - s.available());
    } else {
      // 0x00-0x1F (and the end of the stream): the rest of the block is skipped unread.
      if (header === -1 || !s.skip(lastLen)) throw REJECTED;
      lastLen = 0;
    }
  }
  if (lastLen !== 0) throw REJECTED;
}

/** One reading; returns whether it met a Content-Disposition header. */
function pass(s: Pass): boolean {
  try {
    // parseParts: "startPos <= 0" -- an empty stream is no part.
    if (s.available() <= 0) return false;
    contentType(s);
    // partHeaderLen = headerLength - what the Content-Type took.
    const partHeaderLen = s.available();
    if (partHeaderLen > 0) partHeaders(s, partHeaderLen);
  } catch (e) {
    if (e !== REJECTED) throw e;
  }
  return s.sawDisposition;
}

/**
 * Adds to `out` what Android (AOSP, MediaTek) takes from the entry header
 * block buf[start, end) (Content-Type first); `streamEnd` is where its input
 * stream ends (the PDU, or the enclosing part for nested multiparts).
 */
export function readAospEntryHeaders(
  buf: Uint8Array, start: number, end: number, streamEnd: number, out: ReadingsBuilder, limits: DecodeLimits,
): void {
  const sawDisposition = pass(new Pass(buf, start, end, streamEnd, out, limits, true));
  // The other carrier setting reads differently only from a Content-Disposition header on.
  if (sawDisposition) pass(new Pass(buf, start, end, streamEnd, out, limits, false));
}
