export { MmsError, MmsErrorCode, isMmsError } from './errors.js';
export { DEFAULT_LIMITS, resolveLimits, type DecodeLimits } from './limits.js';
export { ByteReader, decodeLooseText } from './wsp/reader.js';
export { ByteWriter } from './wsp/writer.js';
export { decodeCharsetText, encodeCharsetText } from './wsp/charset.js';
export { readEncodedString, writeEncodedString, type EncodedString } from './wsp/encoded-string.js';
export {
  isWspMultipart, paramValue, readContentType, writeContentType,
  type ContentType, type ContentTypeParam, type ParamValue,
} from './wsp/content-type.js';
export {
  partInfo, readMultipart, writeMultipart,
  type ByteRange, type DecodeIssue, type MmsPart, type PartHeader, type PartInfo, type PartInit,
} from './wsp/multipart.js';
export { type PartInfoSource } from './wsp/part-info.js';
export { type PartReadings } from './wsp/part-readings.js';
export { CHARSETS, WELL_KNOWN_MEDIA, charsetMib, charsetName, mediaCode, mediaName } from './wsp/tables.js';
export {
  FIELD, FIELDS, MESSAGE_TYPES, MessageType, ResponseStatus, RetrieveStatus,
  messageTypeName, versionString, versionValue,
} from './mms/fields.js';
export {
  encodedStrings, mmsVersion, octetHeader, textHeader, transactionId, wellKnown, wellKnownAll,
  type HeaderValue, type MmsHeader, type MmsPdu,
} from './mms/pdu.js';
export { decode } from './mms/decode.js';
export { encode, partAsInit, reencodeWithParts, type PduInit, type PartReplacer } from './mms/encode.js';
export {
  buildRetrieveConfError, buildSendConf, buildTextSendReq, textPart,
  type RetrieveErrorInit, type SendConfInit, type TextSendReqInit,
} from './mms/replies.js';
export { pduToJson } from './json.js';
