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

export interface ScanEngine {
  readonly name: string;
  /** Resolves when the engine can scan (clamd answers PING); rejects with the reason otherwise. */
  ready(signal?: AbortSignal): Promise<void>;
  scan(target: ScanTarget, signal: AbortSignal): Promise<ScanOutcome>;
  close(): Promise<void>;
}

export const CLEAN: ScanOutcome = Object.freeze({ kind: 'clean' });
