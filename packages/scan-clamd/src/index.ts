export { ClamdError, ClamdErrorCode } from './errors.js';
export { formatAddress, parseClamdAddress, parseClamdAddresses, type ClamdAddress } from './address.js';
export { MAX_REPLY, ReplyReader, parseScanReply } from './reply.js';
export { ClamdClient, type ClamdClientOptions } from './client.js';
export { ClamdEngine } from './engine.js';
