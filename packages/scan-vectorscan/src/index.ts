/**
 * Loads the optional Vectorscan addon. `loadVectorscan()` returns null when it
 * was not built (no libvectorscan-dev), and callers fall back to JavaScript.
 */
import { createRequire } from 'node:module';

export interface VectorscanDatabase {
  /** Ids (indices into the compiled expression list) that occur in data, each at most once. */
  scan(data: Uint8Array): number[];
  close(): void;
}

export interface VectorscanBinding {
  /** Compiles on the calling (main) thread: for tests and benches; a server uses compileAsync. */
  compile(expressions: readonly string[]): VectorscanDatabase;
  /**
   * Compiles on libuv's thread pool (10,000 patterns take seconds): the event loop keeps serving meanwhile.
   * A refused expression rejects with the same error as compile: `expression` is its index.
   */
  compileAsync(expressions: readonly string[]): Promise<VectorscanDatabase>;
}

interface Native {
  Database: new (expressions: readonly string[]) => VectorscanDatabase;
  compileAsync(expressions: readonly string[]): Promise<VectorscanDatabase>;
}

let cached: VectorscanBinding | null | undefined;

export function loadVectorscan(): VectorscanBinding | null {
  if (cached !== undefined) return cached;
  try {
    const require = createRequire(import.meta.url);
    const native = require('../native/build/Release/vectorscan.node') as Native;
    cached = {
      compile: (expressions) => new native.Database(expressions),
      // async: a malformed argument rejects like a refused expression instead of throwing on the call.
      compileAsync: async (expressions) => native.compileAsync(expressions),
    };
  } catch {
    cached = null;
  }
  return cached;
}
