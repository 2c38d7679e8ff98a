/**
 * The scan vocabulary shared by every engine. An engine sees one target (a
 * part, or a member extracted from an archive) and says clean, infected,
 * skipped or error. Engines never see HTTP or MMS structures.
 */

export interface ScanTarget {
  /** Where the bytes came from, e.g. `photo.zip/inner/eicar.com`; used in verdicts and logs. */
  readonly path: string;
  readonly data: Uint8Array;
  /** Declared media type (Content-Type), if any; detection never trusts it. */
  readonly declaredType?: string | null;
  /** Declared file name, if any. */
  readonly name?: string | null;
}

export type ScanOutcome =
  | { readonly kind: 'clean' }
  | { readonly kind: 'infected'; readonly name: string }
  | { readonly kind: 'skipped'; readonly reason: string }
  | { readonly kind: 'error'; readonly code: string; readonly message: string };

/** A kind of signature the built-in engine loads: a hash of the whole target, or a body pattern (.ndb). */
export type SignatureKind = 'md5' | 'sha1' | 'sha256' | 'body';

/** One loaded signature file. */
export interface SignatureFileInfo {
  /** As configured (SIGNATURE_FILES). */
  readonly path: string;
  /** SHA-256 of the bytes that were loaded: which copy of the file is in use, after an update or a reload. */
  readonly sha256: string;
  readonly signatures: number;
  /** The kinds present in the file, in the order md5, sha1, sha256, body. */
  readonly kinds: readonly SignatureKind[];
}

/**
 * What an engine scans with, so an operator can see that a signature update took (`GET /readyz`).
 * Engines know different things; each fills in what it has.
 */
export interface EngineInfo {
  /** The engine's version: ClamAV's (`1.4.6`); for ICAP the service's ISTag, which changes with its database. */
  readonly version?: string;
  /** The signature database's version (clamd: the number of its newest database, e.g. daily.cvd). */
  readonly database?: number;
  /** When that database was built, as the engine writes it (clamd: ctime format in clamd's local time). */
  readonly date?: string;
  /** Signatures loaded, when the engine can count them (clamd and ICAP servers do not say). */
  readonly signatures?: number;
  readonly files?: readonly SignatureFileInfo[];
  /** The EICAR test signature is active although no file holds it. */
  readonly eicar?: boolean;
  /** The server's own description of the service (ICAP `Service`). */
  readonly service?: string;
  /** Which configured address answered (failover lists). */
  readonly address?: string;
}

export interface ScanEngine {
  readonly name: string;
  /** Resolves when the engine can scan (clamd answers PING); rejects with the reason otherwise. */
  ready(signal?: AbortSignal): Promise<void>;
  /**
   * What the engine scans with (version, database date, signature files); rejects when it cannot
   * tell, which readiness treats as not ready. Optional: an engine without one shows only its name.
   */
  describe?(signal: AbortSignal): Promise<EngineInfo>;
  scan(target: ScanTarget, signal: AbortSignal): Promise<ScanOutcome>;
  /**
   * Optional, for an engine that does all its work on the calling thread (the built-in one): the answer `scan`
   * would give, returned directly. No timer can interrupt such work, so the orchestrator calls this instead and
   * spares the per-target AbortController, timer and promises that only a remote engine needs.
   */
  scanSync?(data: Uint8Array): ScanOutcome;
  close(): Promise<void>;
}

export const CLEAN: ScanOutcome = Object.freeze({ kind: 'clean' });
