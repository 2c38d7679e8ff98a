/**
 * ICAP requests on the wire (RFC 3507 §4.3–4.5, §4.8, §4.10): OPTIONS, and RESPMOD/REQMOD heads
 * that wrap the part in a synthetic HTTP message, plus chunk framing. Nothing from the message goes
 * into a head: not its file name (an attacker picks it, and servers skip files by name), not its
 * declared type (servers skip "images"), so every part is sent as `application/octet-stream` under a
 * fixed URL. Only our own numbers (lengths, preview size) are written.
 */
import { formatIcapUrl, hostPort, type IcapAddress } from './address.js';
import type { IcapMethod } from './options.js';

const CRLF = '\r\n';
const USER_AGENT = 'mmsguard-icap/0.1';
/** The synthetic HTTP request line the part is said to answer (RESPMOD) or to be the body of (REQMOD). */
const HTTP_HOST = 'mmsguard.invalid';
const HTTP_PATH = '/mms/part';

export function optionsRequest(a: IcapAddress): Buffer {
  return Buffer.from(
    `OPTIONS ${formatIcapUrl(a)} ICAP/1.0${CRLF}Host: ${hostPort(a)}${CRLF}User-Agent: ${USER_AGENT}${CRLF}` +
    `Encapsulated: null-body=0${CRLF}${CRLF}`,
    'latin1',
  );
}

/**
 * The ICAP head plus encapsulated HTTP head(s) of a RESPMOD or REQMOD carrying `length` body bytes.
 * `preview` is the Preview value (null: no preview). `Allow: 204` lets the server answer "unmodified"
 * without echoing the part, inside or outside the preview.
 */
export function modifyRequest(method: IcapMethod, a: IcapAddress, length: number, preview: number | null): Buffer {
  const entity = `Content-Type: application/octet-stream${CRLF}Content-Length: ${length}${CRLF}${CRLF}`;
  let encapsulated: string;
  let http: string;
  if (method === 'RESPMOD') {
    const req = `GET ${HTTP_PATH} HTTP/1.1${CRLF}Host: ${HTTP_HOST}${CRLF}${CRLF}`;
    const res = `HTTP/1.1 200 OK${CRLF}${entity}`;
    encapsulated = `req-hdr=0, res-hdr=${req.length}, res-body=${req.length + res.length}`;
    http = req + res;
  } else {
    const req = `POST ${HTTP_PATH} HTTP/1.1${CRLF}Host: ${HTTP_HOST}${CRLF}${entity}`;
    encapsulated = `req-hdr=0, req-body=${req.length}`;
    http = req;
  }
  const previewLine = preview === null ? '' : `Preview: ${preview}${CRLF}`;
  const head = `${method} ${formatIcapUrl(a)} ICAP/1.0${CRLF}Host: ${hostPort(a)}${CRLF}` +
    `User-Agent: ${USER_AGENT}${CRLF}Allow: 204${CRLF}${previewLine}Encapsulated: ${encapsulated}${CRLF}${CRLF}`;
  return Buffer.from(head + http, 'latin1');
}

/** The size line that opens a chunk of `n` bytes (n > 0); the data and CHUNK_END follow. */
export function chunkHead(n: number): Buffer {
  return Buffer.from(`${n.toString(16)}${CRLF}`, 'latin1');
}

export const CHUNK_END = Buffer.from(CRLF, 'latin1');
/** Ends the body, or the preview when more follows after `100 Continue`. */
export const LAST_CHUNK = Buffer.from(`0${CRLF}${CRLF}`, 'latin1');
/** Ends a preview that holds the whole body: the server must answer at once, never `100 Continue`. */
export const LAST_CHUNK_IEOF = Buffer.from(`0; ieof${CRLF}${CRLF}`, 'latin1');
