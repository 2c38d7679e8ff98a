/**
 * Content-type-value (WAP-230-WSP 8.4.2.24) and its parameters, in both the
 * constrained form (bare code or text) and the general form (Value-length,
 * media, parameters). Media types keep the spelling they came with; callers
 * compare case-insensitively (see `isWspMultipart`).
 */
import type { ByteReader} from './reader.js';
import { decodeLooseText } from './reader.js';
import type { ByteWriter} from './writer.js';
import { encodeFail } from './writer.js';
import { MmsErrorCode } from '../errors.js';
import { PARAM_ENCODE_CODE, WELL_KNOWN_PARAMS, mediaCode, mediaName } from './tables.js';

export type ParamValue = string | number | null;

export interface ContentTypeParam {
  /** Lower-case parameter name ('charset', 'name', 'type', 'start', ...). */
  readonly name: string;
  /** charset: MIBenum number when sent as a code, else the text; null for No-value. */
  readonly value: ParamValue;
}

export interface ContentType {
  readonly mediaType: string;
  readonly params: readonly ContentTypeParam[];
}

/** Text-value = No-value | Token-text | Quoted-string. */
function readTextValue(r: ByteReader): string | null {
  const c = r.peek();
  if (c === 0) {
    r.pos++;
    return null;
  }
  if (c === 0x22) return r.quotedString();
  return r.textString();
}

/** Untyped-value = Integer-value | Text-value. */
function readUntypedValue(r: ByteReader): ParamValue {
  const c = r.peek();
  if (c >= 0x80 || (c > 0 && c < 31)) return r.integerValue();
  return readTextValue(r);
}

function readTypedValue(r: ByteReader, code: number): { name: string; value: ParamValue } {
  const def = WELL_KNOWN_PARAMS.get(code);
  if (def === undefined) {
    // Unknown typed parameter: keep it readable, skip by the generic rule.
    const raw = r.skipValue();
    return { name: `x-wsp-param-0x${code.toString(16)}`, value: decodeLooseText(raw) };
  }
  const c = r.peek();
  switch (def.kind) {
    case 'charset':
    case 'integer':
    case 'version':
    case 'delta':
    case 'field-name':
      return { name: def.name, value: c >= 0x80 || c < 31 ? r.integerValue() : r.textString() };
    case 'q':
      return { name: def.name, value: r.uintvar() };
    case 'short':
      return { name: def.name, value: r.shortInteger() };
    case 'date':
      return { name: def.name, value: r.longInteger() };
    case 'media':
      return { name: def.name, value: c >= 0x80 ? mediaName(r.integerValue()) : r.textString() };
    case 'no-value':
      if (c === 0) r.pos++;
      else r.skipValue();
      return { name: def.name, value: null };
    case 'text':
      return { name: def.name, value: c === 0x22 ? r.quotedString() : r.textString() };
    case 'text-value':
      return { name: def.name, value: readTextValue(r) };
  }
}

/** Parameters until the end of the reader's window. */
export function readParams(r: ByteReader, maxParams: number): ContentTypeParam[] {
  const params: ContentTypeParam[] = [];
  while (!r.atEnd()) {
    if (params.length >= maxParams) r.fail(MmsErrorCode.LIMIT, `more than ${maxParams} parameters`);
    const c = r.peek();
    if (c >= 0x80 || c < 31) {
      const code = r.integerValue();
      params.push(readTypedValue(r, code));
    } else {
      const name = r.textString().toLowerCase();
      params.push({ name, value: readUntypedValue(r) });
    }
  }
  return params;
}

export function readMedia(r: ByteReader): string {
  const c = r.peek();
  if (c === 0) return r.textString();
  if (c >= 0x80 || c < 31) return mediaName(r.integerValue());
  return r.textString();
}

export function readContentType(r: ByteReader, maxParams: number): ContentType {
  const c = r.peek();
  if (c >= 0x80) return { mediaType: mediaName(r.shortInteger()), params: [] };
  if (c >= 0x20) return { mediaType: r.textString(), params: [] };
  const v = r.sub(r.valueLength());
  if (v.atEnd()) return { mediaType: '', params: [] };
  const mediaType = readMedia(v);
  return { mediaType, params: readParams(v, maxParams) };
}

function writeUntypedValue(w: ByteWriter, v: ParamValue): void {
  if (v === null) {
    w.octet(0);
  } else if (typeof v === 'number') {
    w.integerValue(v);
  } else {
    const first = v.charCodeAt(0);
    // Token-text only for printable ASCII starts; anything else goes quoted so it reads back the same.
    if (v.length > 0 && first >= 0x20 && first < 0x7f && first !== 0x22) w.textString(v);
    else w.quotedString(v);
  }
}

export function writeParams(w: ByteWriter, params: readonly ContentTypeParam[]): void {
  for (const p of params) {
    const code = PARAM_ENCODE_CODE.get(p.name);
    if (code === 0x01 && p.value !== null) {
      w.shortInteger(code);
      if (typeof p.value === 'number') w.integerValue(p.value);
      else w.textString(p.value);
    } else if (code === 0x09 && typeof p.value === 'string') {
      w.shortInteger(code);
      const mc = mediaCode(p.value);
      if (mc !== undefined && mc < 128 && mediaName(mc) === p.value) w.shortInteger(mc);
      else w.textString(p.value);
    } else if (code !== undefined && typeof p.value === 'string' && p.value.charCodeAt(0) !== 0x22) {
      w.shortInteger(code).textString(p.value);
    } else {
      if (p.name.length === 0) encodeFail('parameter without a name');
      w.tokenText(p.name);
      writeUntypedValue(w, p.value);
    }
  }
}

function writeMedia(w: ByteWriter, mediaType: string): void {
  if (mediaType.length === 0) encodeFail('empty media type');
  const code = mediaCode(mediaType);
  if (code !== undefined && mediaName(code) === mediaType) w.integerValue(code);
  else w.textString(mediaType);
}

export function writeContentType(w: ByteWriter, ct: ContentType): void {
  const code = mediaCode(ct.mediaType);
  const wellKnown = code !== undefined && mediaName(code) === ct.mediaType;
  if (ct.params.length === 0 && wellKnown && code < 128) {
    w.shortInteger(code);
  } else if (ct.params.length === 0 && !wellKnown && ct.mediaType.length > 0) {
    w.textString(ct.mediaType);
  } else {
    w.withLength((inner) => {
      writeMedia(inner, ct.mediaType);
      writeParams(inner, ct.params);
    });
  }
}

/** Media types whose body is a WSP multipart (WSP 8.5), by name, whatever the encoding. */
export function isWspMultipart(mediaType: string): boolean {
  return mediaType.toLowerCase().startsWith('application/vnd.wap.multipart.');
}

export function paramValue(ct: ContentType, name: string): ParamValue | undefined {
  for (const p of ct.params) if (p.name === name) return p.value;
  return undefined;
}
