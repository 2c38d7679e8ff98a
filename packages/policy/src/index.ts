export { decideMessage, type LogAction, type MessageAction, type MessageDecision, type PartEvent, type PolicySettings, type Subtype } from './decide.js';
export { MemoryStore, type BulkCheckResult, type BulkCheckSpec, type CounterStore } from './store.js';
export { MAX_THRESHOLDS, checkBulk, checkBulkMany, parseThresholds, releaseBulk, topCounts, type BulkAction, type BulkKey, type BulkVerdict, type Threshold } from './bulk.js';
export { MAX_ADDRESS_LENGTH, matchList, normalizeAddress, parseMsisdnList, parsePrefixRules, type ListAction, type ListProblem, type ListRule, type PrefixRule } from './msisdn-list.js';
