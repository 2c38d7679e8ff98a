/**
 * Reads an HTTP body into one buffer sized from Content-Length (no chunk
 * array + concat), counting every byte against the in-flight budget, and
 * stops at the oversize limit without reading further.
 */
import type { Readable } from 'node:stream';
import type { ByteBudget } from './budget.js';

export type BodyResult =
  | { readonly kind: 'complete'; readonly body: Buffer; readonly reserved: number }
  /** The limit was crossed: `head` holds what was read; `rest` yields the remainder (not buffered). */
  | { readonly kind: 'oversize'; readonly head: Buffer; readonly rest: Readable; readonly reserved: number }
  | { readonly kind: 'budget'; readonly reserved: 0 }
  | { readonly kind: 'aborted'; readonly reserved: 0 }
  | { readonly kind: 'length-mismatch'; readonly reserved: 0 };

export interface ReadOptions {
  readonly declaredLength: number | null;
  readonly limit: number;
  readonly budget: ByteBudget;
  /** Called after every chunk with a view of everything read so far (comforting trickles from it). */
  readonly onProgress?: (soFar: Uint8Array) => void;
}

export function readBody(stream: Readable, opts: ReadOptions): Promise<BodyResult> {
  const { declaredLength, limit, budget } = opts;
  if (declaredLength !== null && declaredLength > limit) {
    stream.pause();
    return Promise.resolve({ kind: 'oversize', head: Buffer.alloc(0), rest: stream, reserved: 0 });
  }
  let reserved = declaredLength ?? 0;
  if (!budget.tryTake(reserved)) {
    stream.resume();
    return Promise.resolve({ kind: 'budget', reserved: 0 });
  }
  let buf = Buffer.allocUnsafe(declaredLength ?? 16 * 1024);
  let len = 0;
  return new Promise<BodyResult>((resolve) => {
    let settled = false;
    const finish = (r: BodyResult, drain: boolean): void => {
      if (settled) return;
      settled = true;
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onFail);
      stream.off('close', onClose);
      if (r.kind !== 'complete' && r.kind !== 'oversize') budget.give(reserved);
      // Events are detached, not the stream: an oversize 'pass' streams the rest on.
      if (drain) stream.resume();
      resolve(r);
    };
    const onData = (c: Buffer): void => {
      if (len + c.length > limit) {
        stream.pause();
        finish({ kind: 'oversize', head: Buffer.concat([buf.subarray(0, len), c]), rest: stream, reserved }, false);
        return;
      }
      if (len + c.length > buf.length) {
        if (declaredLength !== null) {
          finish({ kind: 'length-mismatch', reserved: 0 }, true);
          return;
        }
        const grow = Math.min(limit, Math.max(buf.length * 2, len + c.length));
        if (!budget.tryTake(grow - reserved)) {
          finish({ kind: 'budget', reserved: 0 }, true);
          return;
        }
        reserved = grow;
        const next = Buffer.allocUnsafe(grow);
        buf.copy(next, 0, 0, len);
        buf = next;
      }
      c.copy(buf, len);
      len += c.length;
      opts.onProgress?.(buf.subarray(0, len));
    };
    const onEnd = (): void => {
      if (declaredLength !== null && len !== declaredLength) finish({ kind: 'length-mismatch', reserved: 0 }, false);
      else finish({ kind: 'complete', body: buf.subarray(0, len), reserved }, false);
    };
    const onFail = (): void => finish({ kind: 'aborted', reserved: 0 }, false);
    const onClose = (): void => finish({ kind: 'aborted', reserved: 0 }, false);
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onFail);
    stream.on('close', onClose);
  });
}
