export { QuarantineError, QuarantineErrorCode } from './errors.js';
export { DEFAULT_QUARANTINE_LIMITS, type QuarantineLimits } from './limits.js';
export { Quarantine, type PutInput, type QuarantineOptions, type QuarantineStats } from './quarantine.js';
export { isSha256 } from './sha256.js';
export type { QuarantineFinding, Sidecar } from './sidecar.js';
export {
  newHashSignatures, retroHunt, runRetroHunt, type RetroHuntInput, type RetroHuntMatch, type RetroHuntSummary,
} from './retro-hunt.js';
