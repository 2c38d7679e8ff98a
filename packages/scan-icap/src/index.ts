export { IcapError, IcapErrorCode } from './errors.js';
export { DEFAULT_ICAP_PORT, formatIcapUrl, parseIcapUrl, parseIcapUrls, type IcapAddress } from './address.js';
export {
  MAX_CHUNK_DIGITS, MAX_FIELDS, MAX_HTTP_HEAD, MAX_ICAP_HEAD, MAX_LINE, ReplyReader, field, parseEncapsulated,
  type FieldMap, type HttpHead, type IcapReplyHead, type ReplyEvent,
} from './reply.js';
export {
  C_ICAP_NO_ENGINE_ISTAG, DEFAULT_OPTIONS_TTL_MS, MAX_OPTIONS_TTL_MS, MIN_OPTIONS_TTL_MS, parseIstag, parseOptions,
  type IcapMethod, type IcapServiceOptions,
} from './options.js';
export { BLOCKED_NAME, MODIFIED_NAME, UNNAMED, infectionName } from './verdict.js';
export { IcapClient, type IcapClientOptions, type ServiceInfo } from './client.js';
export { IcapEngine, type IcapEngineOptions } from './engine.js';
export {
  cIcapMissing, findCIcap, findCIcapModules, startLocalIcap, type LocalIcap, type LocalIcapOptions,
} from './launcher.js';
