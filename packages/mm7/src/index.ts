export { Mm7Error, Mm7ErrorCode, Mm7UnscannableCode, type Mm7Unscannable } from './errors.js';
export {
  dispositionFilename, normalizeCid, parseContentType, parseContentTypeStrict, type MimeType,
} from './content-type.js';
export {
  DEFAULT_MIME_LIMITS, leaves, parseMime, resolveMimeLimits,
  type EmbeddedMessage, type MimeIssue, type MimeLimits, type MimePart, type ParsedMime,
} from './mime.js';
export {
  base64Ambiguity, decodeQuotedPrintable, decodedBody, transferEncodingKind, type TransferEncodingKind,
} from './transfer-encoding.js';
export { DEFAULT_MAX_UU_FILES, decodeUuencode, type UuDecoded, type UuFile } from './uuencode.js';
export { contentLeaves, type ContentLeaf, type ContentLeafKind } from './content-leaves.js';
export { soapRoot } from './soap-root.js';
export { parseMm7Message, peekTransactionId, type Mm7Attachment, type Mm7Message } from './message.js';
export { MAX_ENVELOPE_BYTES, parseSoap, type SoapRequest } from './soap.js';
export { MAX_PEEK_BYTES, peekEnvelope } from './peek.js';
export {
  MM7_STATUS, Mm7Status, buildFault, buildRsp, responseName, xmlEscape, type Mm7Reply, type ReplyFor,
} from './replies.js';
export { replaceParts, type Replacement } from './rewrite.js';
export {
  REL_6_MM7_1_4, buildSubmitReq, parseSubmitRsp, type SubmitAttachment, type SubmitReqInit, type SubmitRsp,
} from './submit-req.js';
