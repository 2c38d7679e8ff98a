/**
 * Runs every configured engine on every target with a per-engine timeout
 * (none for an engine that scans on the calling thread: nothing could
 * interrupt it). Throws and timeouts become `error` outcomes, so one broken
 * engine cannot take a message down with an exception. Engines are never
 * branched on by name.
 */
import { ScanErrorCode } from './errors.js';
import type { ScanEngine, ScanOutcome, ScanTarget } from './types.js';

export interface EngineResult {
  readonly engine: string;
  readonly outcome: ScanOutcome;
  readonly ms: number;
}

export interface TargetResult {
  readonly target: ScanTarget;
  readonly results: readonly EngineResult[];
}

export interface OrchestratorOptions {
  /** Per target, per engine (SCAN_TIMEOUT). */
  readonly timeoutMs: number;
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

type SyncEngine = ScanEngine & { scanSync(data: Uint8Array): ScanOutcome };

function scansOnThisThread(engine: ScanEngine): engine is SyncEngine {
  return engine.scanSync !== undefined;
}

/**
 * An engine that scans on the calling thread: a timeout could only fire after it returned, so there is none. A
 * throw is an `error` outcome, as it is for every engine (through `scan` it escaped synchronously).
 */
function scanOnThisThread(engine: SyncEngine, target: ScanTarget, parent?: AbortSignal): ScanOutcome {
  if (parent?.aborted === true) return { kind: 'error', code: ScanErrorCode.ABORTED, message: 'scan cancelled' };
  try {
    return engine.scanSync(target.data);
  } catch (e) {
    return { kind: 'error', code: ScanErrorCode.ENGINE, message: `${engine.name}: ${errorMessage(e)}` };
  }
}

export async function scanWithEngine(
  engine: ScanEngine, target: ScanTarget, timeoutMs: number, parent?: AbortSignal,
): Promise<EngineResult> {
  const started = performance.now();
  if (scansOnThisThread(engine)) {
    const outcome = scanOnThisThread(engine, target, parent);
    return { engine: engine.name, outcome, ms: performance.now() - started };
  }
  const ctl = new AbortController();
  let resolveAborted: (o: ScanOutcome) => void = () => undefined;
  const aborted = new Promise<ScanOutcome>((resolve) => (resolveAborted = resolve));
  const onParentAbort = (): void => {
    ctl.abort(parent?.reason);
    resolveAborted({ kind: 'error', code: ScanErrorCode.ABORTED, message: 'scan cancelled' });
  };
  if (parent?.aborted === true) onParentAbort();
  else parent?.addEventListener('abort', onParentAbort, { once: true });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<ScanOutcome>((resolve) => {
    timer = setTimeout(() => {
      ctl.abort(new Error('scan timeout'));
      const message = `${engine.name} gave no answer within ${timeoutMs} ms`;
      resolve({ kind: 'error', code: ScanErrorCode.TIMEOUT, message });
    }, timeoutMs);
  });
  const run = engine.scan(target, ctl.signal).catch(
    (e: unknown): ScanOutcome => ({
      kind: 'error', code: ScanErrorCode.ENGINE, message: `${engine.name}: ${errorMessage(e)}`,
    }),
  );
  try {
    const outcome = await Promise.race([run, timeout, aborted]);
    return { engine: engine.name, outcome, ms: performance.now() - started };
  } finally {
    clearTimeout(timer);
    parent?.removeEventListener('abort', onParentAbort);
  }
}

/** Every engine on every target; engines run concurrently per target, targets one after another. */
export async function scanTargets(
  engines: readonly ScanEngine[], targets: Iterable<ScanTarget> | AsyncIterable<ScanTarget>,
  opts: OrchestratorOptions, signal?: AbortSignal,
): Promise<TargetResult[]> {
  const out: TargetResult[] = [];
  for await (const target of targets) {
    const results = await Promise.all(engines.map((e) => scanWithEngine(e, target, opts.timeoutMs, signal)));
    out.push({ target, results });
  }
  return out;
}
