export { ScanError, ScanErrorCode } from './errors.js';
export {
  CLEAN, type EngineInfo, type ScanEngine, type ScanOutcome, type ScanTarget,
  type SignatureFileInfo, type SignatureKind,
} from './types.js';
export {
  scanTargets, scanWithEngine, type EngineResult, type OrchestratorOptions, type TargetResult,
} from './orchestrator.js';
export { BuiltinEngine, type BuiltinOptions } from './builtin/engine.js';
export { digestOf, type DigestAlgo } from './digest.js';
export { NativeBodyMatcher, patternToRegex } from './builtin/native-matcher.js';
export { EICAR_NAME, eicarBytes, isEicar } from './builtin/eicar.js';
export { BodyMatcher } from './builtin/matcher.js';
export { compilePattern, PatternError, type CompiledPattern } from './builtin/hex-pattern.js';
export {
  loadSignatureFiles, parseSignatureText,
  type BodySignature, type HashSignature, type SignatureProblem, type SignatureSet,
} from './builtin/signatures.js';
export { detectFileType, type FileTypeInfo } from './filetype.js';
export {
  DEFAULT_ARCHIVE_LIMITS, expandArchives,
  type ArchiveLimits, type ExpandOptions, type Expansion, type OpenedContainer, type Unscannable,
} from './archive.js';
export {
  containerKind, hasZipStructures, isTarHeader, SEVEN_ZIP_TYPES, type ContainerKind,
} from './container-kind.js';
export { RATIO_FLOOR } from './expand-context.js';
export {
  DEFAULT_EXPANSION_POOL, DEFAULT_EXPANSION_POOL_BYTES, DEFAULT_MESSAGE_EXPANSION_BYTES, ExpansionBudget, ExpansionPool,
  type ExpansionBudgetOptions, type ExpansionLease,
} from './expansion-budget.js';
export { DANGEROUS_TYPES, harmlessDeclaration, mismatchName } from './mismatch.js';
export {
  inspectTarget, verdictOf, type Finding, type InspectOptions, type InspectReport, type Verdict,
} from './inspect.js';
export {
  DEFAULT_MIN_BASE64_CHARS, decodeBase64Lenient, decodeQuotedPrintable, decodeUuencode, hasQuotedPrintableMarks,
  looksLikeBase64, transferDecodings, transferEncodingName,
  type TransferDecoding, type TransferDecodingOptions, type TransferEncodingName,
} from './transfer-decodings.js';
