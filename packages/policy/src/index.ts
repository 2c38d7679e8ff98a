export {
  decideMessage, type LogAction, type MessageAction, type MessageDecision, type PartEvent, type PolicySettings,
  type Subtype,
} from './decide.js';
export {
  MemoryStore, type BulkCheckResult, type BulkCheckSpec, type CounterStore, type MemoryStoreOptions,
} from './store.js';
export {
  MAX_THRESHOLDS, checkBulk, checkBulkMany, parseThresholds, releaseBulk, topCounts,
  type BulkAction, type BulkKey, type BulkVerdict, type Threshold,
} from './bulk.js';
export {
  MAX_ADDRESS_LENGTH, matchList, normalizeAddress, parseMsisdnList, parsePrefixRules,
  type ListAction, type ListProblem, type ListRule, type PrefixRule,
} from './msisdn-list.js';
export {
  DEFAULT_VERDICT_LIMITS, MAX_TRANSACTION_ID_LENGTH, MemoryVerdictStore, VerdictStoreError, VerdictStoreErrorCode,
  assertDigests, decodeDelivery, encodeVerdict, isDigest, resolveVerdictLimits,
  type DeliveredPart, type Delivery, type DeliveryEntry, type DigestAlgo, type DigestRef,
  type MemoryVerdictStoreOptions,
  type VerdictFinding, type VerdictPart, type VerdictRecord, type VerdictStore, type VerdictStoreLimits,
} from './verdict-store.js';
export {
  bulkOutcome, eventAction, listOutcome, quotaOutcome, scanEventRole, scanOutcome, verdictAction,
  type EventRole, type ListHit, type Outcome, type RefuseReason, type TransientReason, type VerdictAction,
} from './outcome.js';
export {
  DAY_GRACE_MS, DEFAULT_QUOTA_MAX_KEYS, MAX_BURST, MAX_DAILY, MAX_RATE_PER_SEC, MAX_USAGE_ROWS, MAX_VASP_ID_LENGTH,
  MAX_VASP_RULES, MM7_SERVICE_DENIED, MemoryQuotaStore, QuotaStoreError, QuotaStoreErrorCode, TICKS_PER_TOKEN,
  VASP_QUOTA_PREFIX, assertQuotaTake, bucketAt, checkVaspQuota, indexVaspRules, parseVaspLimits, refill, takeToken,
  ticksPerMs, utcDay, vaspOfKey, vaspQuotaKey, vaspQuotaOutcome, vaspQuotaSpec, vaspRuleFor, vaspUsageReport,
  type BucketState, type MemoryQuotaStoreOptions, type QuotaResult, type QuotaSpec, type QuotaStore, type QuotaUsage,
  type VaspLimits, type VaspOver, type VaspQuotaOutcome, type VaspRule, type VaspUsageRow,
} from './vasp-limits.js';
