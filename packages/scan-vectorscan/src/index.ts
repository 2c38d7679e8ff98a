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
  compile(expressions: readonly string[]): VectorscanDatabase;
}

interface Native {
  Database: new (expressions: readonly string[]) => VectorscanDatabase;
}

let cached: VectorscanBinding | null | undefined;

export function loadVectorscan(): VectorscanBinding | null {
  if (cached !== undefined) return cached;
  try {
    const require = createRequire(import.meta.url);
    const native = require('../native/build/Release/vectorscan.node') as Native;
    cached = { compile: (expressions) => new native.Database(expressions) };
  } catch {
    cached = null;
  }
  return cached;
}
