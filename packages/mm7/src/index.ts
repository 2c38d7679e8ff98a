export { Mm7Error, Mm7ErrorCode } from './errors.js';
export { normalizeCid, parseContentType, type MimeType } from './content-type.js';
export { DEFAULT_MIME_LIMITS, decodeQuotedPrintable, decodedBody, leaves, parseMime, type MimeIssue, type MimeLimits, type MimePart, type ParsedMime } from './mime.js';
export { MAX_ENVELOPE_BYTES, parseSoap, type SoapRequest } from './soap.js';
export { MM7_STATUS, Mm7Status, buildFault, buildRsp, responseName, xmlEscape, type Mm7Reply, type ReplyFor } from './replies.js';
export { replaceParts, type Replacement } from './rewrite.js';
