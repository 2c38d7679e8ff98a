import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BuiltinEngine, digestOf, parseSignatureText } from '../src/index.js';

const hex = (algo: string, d: Uint8Array): string => createHash(algo).update(d).digest('hex');

describe('digestOf', () => {
  it('is the digest of the bytes, per algorithm', () => {
    const d = new TextEncoder().encode('some part bytes');
    for (const algo of ['md5', 'sha1', 'sha256'] as const) expect(digestOf(d, algo)).toBe(hex(algo, d));
  });

  it('hashes a view once: the built-in engine reuses the SHA-256 the proxy took of the same part', () => {
    const part = new Uint8Array(64).fill(7);
    const digest = digestOf(part, 'sha256');
    // A signature of any size (`*`) makes the engine hash every target. Changing the bytes after the first digest
    // shows that the engine asked the memo instead of hashing again (the pipeline never changes a part's bytes).
    const { set } = parseSignatureText('any.hsb', `${digest}:*:Any.Size.Sig`);
    const engine = new BuiltinEngine(set);
    part[0] = 8;
    expect(engine.scanSync(part)).toEqual({ kind: 'infected', name: 'Any.Size.Sig' });
  });

  it('keys by view: another view of the same buffer (a reused buffer, a new message) is hashed anew', () => {
    const buf = new Uint8Array(32).fill(1);
    const first = buf.subarray(0, 16);
    const before = digestOf(first, 'sha256');
    buf.fill(2);
    const again = buf.subarray(0, 16);
    expect(digestOf(again, 'sha256')).toBe(hex('sha256', again));
    expect(digestOf(again, 'sha256')).not.toBe(before);
  });
});
