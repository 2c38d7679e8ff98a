/**
 * WSP well-known tables (WAP-230-WSP Appendix A, WINA registrations):
 * media types (Table 40), parameters (Table 38), part header fields
 * (Table 39), charsets (IANA MIBenum). Data only.
 */

/** Well-known media codes; spellings as Wireshark prints them. */
export const WELL_KNOWN_MEDIA: ReadonlyMap<number, string> = new Map<number, string>([
  [0x00, '*/*'], [0x01, 'text/*'], [0x02, 'text/html'], [0x03, 'text/plain'],
  [0x04, 'text/x-hdml'], [0x05, 'text/x-ttml'], [0x06, 'text/x-vCalendar'], [0x07, 'text/x-vCard'],
  [0x08, 'text/vnd.wap.wml'], [0x09, 'text/vnd.wap.wmlscript'], [0x0a, 'text/vnd.wap.wta-event'],
  [0x0b, 'multipart/*'], [0x0c, 'multipart/mixed'], [0x0d, 'multipart/form-data'],
  [0x0e, 'multipart/byteranges'], [0x0f, 'multipart/alternative'], [0x10, 'application/*'],
  [0x11, 'application/java-vm'], [0x12, 'application/x-www-form-urlencoded'], [0x13, 'application/x-hdmlc'],
  [0x14, 'application/vnd.wap.wmlc'], [0x15, 'application/vnd.wap.wmlscriptc'],
  [0x16, 'application/vnd.wap.wta-eventc'], [0x17, 'application/vnd.wap.uaprof'],
  [0x18, 'application/vnd.wap.wtls-ca-certificate'], [0x19, 'application/vnd.wap.wtls-user-certificate'],
  [0x1a, 'application/x-x509-ca-cert'], [0x1b, 'application/x-x509-user-cert'], [0x1c, 'image/*'],
  [0x1d, 'image/gif'], [0x1e, 'image/jpeg'], [0x1f, 'image/tiff'], [0x20, 'image/png'],
  [0x21, 'image/vnd.wap.wbmp'], [0x22, 'application/vnd.wap.multipart.*'],
  [0x23, 'application/vnd.wap.multipart.mixed'], [0x24, 'application/vnd.wap.multipart.form-data'],
  [0x25, 'application/vnd.wap.multipart.byteranges'], [0x26, 'application/vnd.wap.multipart.alternative'],
  [0x27, 'application/xml'], [0x28, 'text/xml'], [0x29, 'application/vnd.wap.wbxml'],
  [0x2a, 'application/x-x968-cross-cert'], [0x2b, 'application/x-x968-ca-cert'],
  [0x2c, 'application/x-x968-user-cert'], [0x2d, 'text/vnd.wap.si'], [0x2e, 'application/vnd.wap.sic'],
  [0x2f, 'text/vnd.wap.sl'], [0x30, 'application/vnd.wap.slc'], [0x31, 'text/vnd.wap.co'],
  [0x32, 'application/vnd.wap.coc'], [0x33, 'application/vnd.wap.multipart.related'],
  [0x34, 'application/vnd.wap.sia'], [0x35, 'text/vnd.wap.connectivity-xml'],
  [0x36, 'application/vnd.wap.connectivity-wbxml'], [0x37, 'application/pkcs7-mime'],
  [0x38, 'application/vnd.wap.hashed-certificate'], [0x39, 'application/vnd.wap.signed-certificate'],
  [0x3a, 'application/vnd.wap.cert-response'], [0x3b, 'application/xhtml+xml'],
  [0x3c, 'application/wml+xml'], [0x3d, 'text/css'], [0x3e, 'application/vnd.wap.mms-message'],
  [0x3f, 'application/vnd.wap.rollover-certificate'], [0x40, 'application/vnd.wap.locc+wbxml'],
  [0x41, 'application/vnd.wap.loc+xml'], [0x42, 'application/vnd.syncml.dm+wbxml'],
  [0x43, 'application/vnd.syncml.dm+xml'], [0x44, 'application/vnd.syncml.notification'],
  [0x45, 'application/vnd.wap.xhtml+xml'], [0x46, 'application/vnd.wv.csp.cir'],
  [0x47, 'application/vnd.oma.dd+xml'], [0x48, 'application/vnd.oma.drm.message'],
  [0x49, 'application/vnd.oma.drm.content'], [0x4a, 'application/vnd.oma.drm.rights+xml'],
  [0x4b, 'application/vnd.oma.drm.rights+wbxml'], [0x4c, 'application/vnd.wv.csp+xml'],
  [0x4d, 'application/vnd.wv.csp+wbxml'], [0x4e, 'application/vnd.syncml.ds.notification'],
  [0x4f, 'audio/*'], [0x50, 'video/*'], [0x51, 'application/vnd.oma.dd2+xml'], [0x52, 'application/mikey'],
  [0x53, 'application/vnd.oma.dcd'], [0x54, 'application/vnd.oma.dcdc+xml'],
  // Two-octet registrations (sent as Long-integer).
  [0x0201, 'application/vnd.uplanet.cacheop-wbxml'], [0x0202, 'application/vnd.uplanet.signal'],
  [0x0203, 'application/vnd.uplanet.alert-wbxml'], [0x0204, 'application/vnd.uplanet.list-wbxml'],
  [0x0205, 'application/vnd.uplanet.listcmd-wbxml'], [0x0206, 'application/vnd.uplanet.channel-wbxml'],
  [0x0207, 'application/vnd.uplanet.provisioning-status-uri'], [0x0208, 'x-wap.multipart/vnd.uplanet.header-set'],
  [0x0209, 'application/vnd.uplanet.bearer-choice-wbxml'], [0x020a, 'application/vnd.phonecom.mmc-wbxml'],
  [0x020b, 'application/vnd.nokia.syncset+wbxml'], [0x020c, 'image/x-up-wpng'],
]);

const MEDIA_BY_NAME: ReadonlyMap<string, number> = new Map(
  [...WELL_KNOWN_MEDIA].map(([code, name]) => [name.toLowerCase(), code]),
);

/** Media types the decoder could not name keep their code in this form, so they re-encode as they came. */
const UNKNOWN_MEDIA = /^x-wsp-media\/0x([0-9a-f]+)$/;

export function mediaName(code: number): string {
  return WELL_KNOWN_MEDIA.get(code) ?? `x-wsp-media/0x${code.toString(16)}`;
}

export function mediaCode(name: string): number | undefined {
  const lower = name.toLowerCase();
  const known = MEDIA_BY_NAME.get(lower);
  if (known !== undefined) return known;
  const m = UNKNOWN_MEDIA.exec(lower);
  return m?.[1] !== undefined ? parseInt(m[1], 16) : undefined;
}

/** Value shapes of typed parameters. */
export type ParamKind =
  | 'q' | 'charset' | 'version' | 'integer' | 'media' | 'text' | 'text-value'
  | 'field-name' | 'short' | 'delta' | 'no-value' | 'date';

export interface ParamDef {
  readonly name: string;
  readonly kind: ParamKind;
}

/** WSP Table 38, codes 0x00-0x1D (WSP 1.1-1.4). */
export const WELL_KNOWN_PARAMS: ReadonlyMap<number, ParamDef> = new Map<number, ParamDef>([
  [0x00, { name: 'q', kind: 'q' }],
  [0x01, { name: 'charset', kind: 'charset' }],
  [0x02, { name: 'level', kind: 'version' }],
  [0x03, { name: 'type', kind: 'integer' }],
  [0x05, { name: 'name', kind: 'text' }],
  [0x06, { name: 'filename', kind: 'text' }],
  [0x07, { name: 'differences', kind: 'field-name' }],
  [0x08, { name: 'padding', kind: 'short' }],
  [0x09, { name: 'type', kind: 'media' }],
  [0x0a, { name: 'start', kind: 'text' }],
  [0x0b, { name: 'start-info', kind: 'text' }],
  [0x0c, { name: 'comment', kind: 'text' }],
  [0x0d, { name: 'domain', kind: 'text' }],
  [0x0e, { name: 'max-age', kind: 'delta' }],
  [0x0f, { name: 'path', kind: 'text' }],
  [0x10, { name: 'secure', kind: 'no-value' }],
  [0x11, { name: 'sec', kind: 'short' }],
  [0x12, { name: 'mac', kind: 'text-value' }],
  [0x13, { name: 'creation-date', kind: 'date' }],
  [0x14, { name: 'modification-date', kind: 'date' }],
  [0x15, { name: 'read-date', kind: 'date' }],
  [0x16, { name: 'size', kind: 'integer' }],
  [0x17, { name: 'name', kind: 'text-value' }],
  [0x18, { name: 'filename', kind: 'text-value' }],
  [0x19, { name: 'start', kind: 'text-value' }],
  [0x1a, { name: 'start-info', kind: 'text-value' }],
  [0x1b, { name: 'comment', kind: 'text-value' }],
  [0x1c, { name: 'domain', kind: 'text-value' }],
  [0x1d, { name: 'path', kind: 'text-value' }],
]);

/** The code the encoder uses for a parameter name (WSP 1.1-1.3 codes, which every handset reads). */
export const PARAM_ENCODE_CODE: ReadonlyMap<string, number> = new Map([
  ['charset', 0x01], ['name', 0x05], ['filename', 0x06], ['type', 0x09], ['start', 0x0a],
  ['start-info', 0x0b], ['comment', 0x0c], ['domain', 0x0d], ['path', 0x0f],
]);

/** WSP Table 39 part header fields the codec interprets; others are kept raw. */
export const PART_HEADER_NAMES: ReadonlyMap<number, string> = new Map<number, string>([
  [0x00, 'Accept'], [0x01, 'Accept-Charset'], [0x02, 'Accept-Encoding'], [0x03, 'Accept-Language'],
  [0x04, 'Accept-Ranges'], [0x05, 'Age'], [0x06, 'Allow'], [0x07, 'Authorization'],
  [0x08, 'Cache-Control'], [0x09, 'Connection'], [0x0a, 'Content-Base'], [0x0b, 'Content-Encoding'],
  [0x0c, 'Content-Language'], [0x0d, 'Content-Length'], [0x0e, 'Content-Location'], [0x0f, 'Content-MD5'],
  [0x10, 'Content-Range'], [0x11, 'Content-Type'], [0x12, 'Date'], [0x13, 'Etag'], [0x14, 'Expires'],
  [0x15, 'From'], [0x16, 'Host'], [0x17, 'If-Modified-Since'], [0x18, 'If-Match'],
  [0x19, 'If-None-Match'], [0x1a, 'If-Range'], [0x1b, 'If-Unmodified-Since'], [0x1c, 'Location'],
  [0x1d, 'Last-Modified'], [0x1e, 'Max-Forwards'], [0x1f, 'Pragma'], [0x20, 'Proxy-Authenticate'],
  [0x21, 'Proxy-Authorization'], [0x22, 'Public'], [0x23, 'Range'], [0x24, 'Referer'],
  [0x25, 'Retry-After'], [0x26, 'Server'], [0x27, 'Transfer-Encoding'], [0x28, 'Upgrade'],
  [0x29, 'User-Agent'], [0x2a, 'Vary'], [0x2b, 'Via'], [0x2c, 'Warning'], [0x2d, 'WWW-Authenticate'],
  [0x2e, 'Content-Disposition'], [0x2f, 'X-Wap-Application-Id'], [0x30, 'X-Wap-Content-URI'],
  [0x31, 'X-Wap-Initiator-URI'], [0x32, 'Accept-Application'], [0x33, 'Bearer-Indication'],
  [0x34, 'Push-Flag'], [0x35, 'Profile'], [0x36, 'Profile-Diff'], [0x37, 'Profile-Warning'],
  [0x38, 'Expect'], [0x39, 'TE'], [0x3a, 'Trailer'], [0x3b, 'Accept-Charset'], [0x3c, 'Accept-Encoding'],
  [0x3d, 'Cache-Control'], [0x3e, 'Content-Range'], [0x3f, 'X-Wap-Tod'], [0x40, 'Content-ID'],
  [0x41, 'Set-Cookie'], [0x42, 'Cookie'], [0x43, 'Encoding-Version'], [0x44, 'Profile-Warning'],
  [0x45, 'Content-Disposition'], [0x46, 'X-WAP-Security'], [0x47, 'Cache-Control'],
]);

export const PART_HEADER = {
  CONTENT_LOCATION: 0x0e,
  CONTENT_ID: 0x40,
  CONTENT_DISPOSITION: 0x2e,
  CONTENT_DISPOSITION_14: 0x45,
} as const;

export const DISPOSITIONS: ReadonlyMap<number, string> = new Map([
  [0, 'form-data'], [1, 'attachment'], [2, 'inline'],
]);

export interface CharsetDef {
  /** IANA name as Wireshark prints it. */
  readonly name: string;
  /** WHATWG TextDecoder label, where Node has one. */
  readonly label?: string;
}

/** IANA MIBenum charsets seen in MMS. */
export const CHARSETS: ReadonlyMap<number, CharsetDef> = new Map<number, CharsetDef>([
  [0, { name: '*' }],
  [3, { name: 'US-ASCII' }],
  [4, { name: 'ISO-8859-1' }],
  [5, { name: 'ISO-8859-2', label: 'iso-8859-2' }],
  [6, { name: 'ISO-8859-3', label: 'iso-8859-3' }],
  [7, { name: 'ISO-8859-4', label: 'iso-8859-4' }],
  [8, { name: 'ISO-8859-5', label: 'iso-8859-5' }],
  [9, { name: 'ISO-8859-6', label: 'iso-8859-6' }],
  [10, { name: 'ISO-8859-7', label: 'iso-8859-7' }],
  [11, { name: 'ISO-8859-8', label: 'iso-8859-8' }],
  [12, { name: 'ISO-8859-9', label: 'windows-1254' }],
  [13, { name: 'ISO-8859-10', label: 'iso-8859-10' }],
  [17, { name: 'Shift_JIS', label: 'shift_jis' }],
  [18, { name: 'EUC-JP', label: 'euc-jp' }],
  [36, { name: 'KS_C_5601-1987', label: 'euc-kr' }],
  [38, { name: 'EUC-KR', label: 'euc-kr' }],
  [39, { name: 'ISO-2022-JP', label: 'iso-2022-jp' }],
  [104, { name: 'ISO-2022-CN' }],
  [106, { name: 'UTF-8', label: 'utf-8' }],
  [109, { name: 'ISO-8859-13', label: 'iso-8859-13' }],
  [110, { name: 'ISO-8859-14', label: 'iso-8859-14' }],
  [111, { name: 'ISO-8859-15', label: 'iso-8859-15' }],
  [112, { name: 'ISO-8859-16', label: 'iso-8859-16' }],
  [113, { name: 'GBK', label: 'gbk' }],
  [114, { name: 'GB18030', label: 'gb18030' }],
  [1000, { name: 'ISO-10646-UCS-2', label: 'utf-16be' }],
  [1013, { name: 'UTF-16BE', label: 'utf-16be' }],
  [1014, { name: 'UTF-16LE', label: 'utf-16le' }],
  [1015, { name: 'UTF-16', label: 'utf-16be' }],
  [2025, { name: 'GB2312', label: 'gb2312' }],
  [2026, { name: 'Big5', label: 'big5' }],
  [2084, { name: 'KOI8-R', label: 'koi8-r' }],
  [2250, { name: 'windows-1250', label: 'windows-1250' }],
  [2251, { name: 'windows-1251', label: 'windows-1251' }],
  [2252, { name: 'windows-1252', label: 'windows-1252' }],
]);

const MIB_BY_NAME: ReadonlyMap<string, number> = new Map<string, number>([
  ...[...CHARSETS].map(([mib, d]) => [d.name.toLowerCase(), mib] as [string, number]),
  ['ascii', 3], ['us-ascii', 3], ['iso_8859-1', 4], ['latin1', 4], ['utf8', 106],
  ['ucs-2', 1000], ['shift-jis', 17], ['sjis', 17], ['ks_c_5601', 36], ['big5', 2026],
]);

export function charsetMib(name: string): number | null {
  return MIB_BY_NAME.get(name.trim().toLowerCase()) ?? null;
}

export function charsetName(mib: number): string {
  return CHARSETS.get(mib)?.name ?? `mib-${mib}`;
}

export function isUtf16(mib: number): boolean {
  return mib === 1000 || mib === 1013 || mib === 1014 || mib === 1015;
}
