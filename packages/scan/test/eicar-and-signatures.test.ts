import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { BuiltinEngine, ScanError, isEicar, loadSignatureFiles, parseSignatureText } from '../src/index.js';
import { EICAR, enc, turnsDuring } from './helpers.js';
import { createHash } from 'node:crypto';

const tmp = mkdtempSync(join(tmpdir(), 'sigs-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('EICAR, as AV engines detect it', () => {
  it('detects the 68-byte string alone, or followed by whitespace up to 128 bytes', () => {
    expect(isEicar(EICAR)).toBe(true);
    expect(isEicar(Buffer.concat([EICAR, Buffer.from('\r\n   \t')]))).toBe(true);
    expect(isEicar(Buffer.concat([EICAR, Buffer.alloc(60, 0x20)]))).toBe(true);
  });

  it('does not detect it past 128 bytes, after other bytes, or not at the start', () => {
    expect(isEicar(Buffer.concat([EICAR, Buffer.alloc(61, 0x20)]))).toBe(false);
    expect(isEicar(Buffer.concat([EICAR, Buffer.from('x')]))).toBe(false);
    expect(isEicar(Buffer.concat([Buffer.from(' '), EICAR]))).toBe(false);
    expect(isEicar(EICAR.subarray(0, 67))).toBe(false);
  });

  it('detects it followed by CTRL-Z, alone or among whitespace (issue 14 class 8)', () => {
    expect(isEicar(Buffer.concat([EICAR, Buffer.from([0x1a])]))).toBe(true);
    expect(isEicar(Buffer.concat([EICAR, Buffer.from('\r\n\x1a')]))).toBe(true);
    expect(isEicar(Buffer.concat([EICAR, Buffer.alloc(60, 0x1a)]))).toBe(true);
    const ctrlZ = Buffer.concat([EICAR, Buffer.from([0x1a])]);
    expect(new BuiltinEngine().scanSync(ctrlZ)).toMatchObject({ kind: 'infected' });
  });

  it('detects any mix of the five whitespace characters up to 128 bytes, and nothing longer', () => {
    const ws = fc.constantFrom(0x20, 0x09, 0x0a, 0x0d, 0x1a);
    fc.assert(fc.property(fc.array(ws, { maxLength: 80 }), (tail) => {
      const file = Buffer.concat([EICAR, Buffer.from(tail)]);
      expect(isEicar(file)).toBe(file.length <= 128);
    }));
  });

  it('rejects a tail holding any byte that is not one of the five whitespace characters', () => {
    const ws = fc.constantFrom(0x20, 0x09, 0x0a, 0x0d, 0x1a);
    const other = fc.integer({ min: 0, max: 255 }).filter((b) => ![0x20, 0x09, 0x0a, 0x0d, 0x1a].includes(b));
    fc.assert(fc.property(fc.array(ws, { maxLength: 30 }), other, fc.array(ws, { maxLength: 29 }), (a, x, b) => {
      expect(isEicar(Buffer.concat([EICAR, Buffer.from([...a, x, ...b])]))).toBe(false);
    }));
  });

  it('is reported by the built-in engine as Eicar-Test-Signature', () => {
    expect(new BuiltinEngine().scanSync(EICAR)).toEqual({ kind: 'infected', name: 'Eicar-Test-Signature' });
  });
});

describe('ClamAV signature files', () => {
  const data = enc('the quick brown fox jumps over the lazy dog');
  const md5 = createHash('md5').update(data).digest('hex');
  const sha256 = createHash('sha256').update(data).digest('hex');
  const sha1 = createHash('sha1').update(data).digest('hex');

  it('matches .hdb (MD5:size:name) and .hsb (SHA256/SHA1, size or *) signatures', () => {
    const hdb = parseSignatureText('a.hdb', `# comment\n${md5}:${data.length}:Test.Md5\n`);
    const hsb = parseSignatureText('b.hsb', `${sha256}:*:Test.Sha256\n${sha1}:${data.length}:Test.Sha1\n`);
    expect(hdb.problems).toEqual([]);
    expect(hsb.problems).toEqual([]);
    expect(new BuiltinEngine(hdb.set).scanSync(data)).toEqual({ kind: 'infected', name: 'Test.Md5' });
    expect(new BuiltinEngine(hsb.set).scanSync(data)).toEqual({ kind: 'infected', name: 'Test.Sha256' });
    expect(new BuiltinEngine(hdb.set).scanSync(enc('other'))).toEqual({ kind: 'clean' });
    // a size that does not match the data never matches
    const wrongSize = parseSignatureText('c.hdb', `${md5}:1:Wrong.Size`).set;
    expect(new BuiltinEngine(wrongSize).scanSync(data)).toEqual({ kind: 'clean' });
  });

  it('matches .ndb hex signatures with wildcards, gaps, alternatives and offsets', () => {
    const hex = (s: string): string => Buffer.from(s).toString('hex');
    const cases: [string, Uint8Array, boolean][] = [
      [`T.1:0:*:${hex('quick')}??${hex('brown')}`, data, true],
      [`T.2:0:*:${hex('quick')}{2-8}${hex('fox')}`, data, true],
      [`T.3:0:*:${hex('quick')}{0-3}${hex('fox')}`, data, false],
      [`T.4:0:*:${hex('quick')}*${hex('lazy')}`, data, true],
      [`T.5:0:*:${hex('lazy')}*${hex('quick')}`, data, false],
      [`T.6:0:*:${hex('the ')}(${hex('quick')}|${hex('slow')})`, data, true],
      [`T.7:0:0:${hex('the quick')}`, data, true],
      [`T.8:0:4:${hex('the quick')}`, data, false],
      [`T.9:0:EOF-3:${hex('dog')}`, data, true],
      [`T.10:0:EOF-4:${hex('dog')}`, data, false],
      [`T.11:0:*:7?68`, data, true], // nibble wildcard: 't' = 0x74, then 'h'
      [`T.12:0:10,4:${hex('brown')}`, data, true],
      [`T.13:1:*:${hex('quick')}`, data, false], // target 1 = PE only
      [`T.14:0:*:${hex('jumps')}{4}${hex('the')}`, data, false],
      [`T.15:0:*:${hex('jumps')}{6}${hex('the')}`, data, true],
      [`T.16:0:*:${hex('jumps')}{6-}${hex('dog')}`, data, true],
    ];
    for (const [line, d, want] of cases) {
      const r = parseSignatureText('x.ndb', line);
      expect(r.problems, line).toEqual([]);
      expect(new BuiltinEngine(r.set).scanSync(d).kind, line).toBe(want ? 'infected' : 'clean');
    }
  });

  it('reports every malformed line with file:line instead of skipping it', async () => {
    const f = join(tmp, 'bad.ndb');
    const lines = [
      'Good:0:*:41424344', 'NoPattern:0:*', 'BadHex:0:*:4142zz', 'BadOffset:0:EP+10:41424344', 'Gap:0:*:41{5-2}42',
    ];
    writeFileSync(f, [...lines, ''].join('\n'));
    const r = parseSignatureText(f, (await import('node:fs')).readFileSync(f, 'utf8'));
    expect(r.problems.map((p) => p.line)).toEqual([2, 3, 4, 5]);
    expect(r.set.bodies.length).toBe(1);
    await expect(loadSignatureFiles([f])).rejects.toThrow(/bad\.ndb:2: .*bad\.ndb:3: .*bad\.ndb:4: .*bad\.ndb:5: /);
    await expect(loadSignatureFiles([f])).rejects.toBeInstanceOf(ScanError);
  });

  it('loads a hash file of ClamAV size (300,000 lines: more than one call may take as arguments)', async () => {
    const f = join(tmp, 'big.hsb');
    const n = 300_000;
    const lines = Array.from({ length: n }, (_, i) => `${i.toString(16).padStart(64, '0')}:${100 + (i % 50)}:Big.${i}`);
    writeFileSync(f, lines.join('\n'));
    // Parsing and indexing take turns with the event loop (a reload must not stall the messages in flight).
    const { value: loaded, turns: parseTurns } = await turnsDuring(() => loadSignatureFiles([f]));
    const { value: engine, turns: indexTurns } = await turnsDuring(() => BuiltinEngine.create(loaded));
    expect(loaded.hashes).toHaveLength(n);
    expect(loaded.hashes[n - 1]).toMatchObject({ algo: 'sha256', size: 100 + ((n - 1) % 50), name: `Big.${n - 1}` });
    expect(loaded.files?.[0]).toMatchObject({ signatures: n, kinds: ['sha256'] });
    // 300,000 lines are ~21 MiB (21 slices of parsing) and 15 slices of indexing: a turn between two slices.
    expect(parseTurns).toBeGreaterThanOrEqual(14);
    expect(indexTurns).toBeGreaterThanOrEqual(14);
    expect(engine.stats.hashSignatures).toBe(n);
    const data = new Uint8Array(100 + (7 % 50));
    const digest = createHash('sha256').update(data).digest('hex');
    const { set: one } = parseSignatureText('one.hsb', `${digest}:${data.length}:One.Sig`);
    expect((await BuiltinEngine.create({ hashes: [...loaded.hashes, ...one.hashes], bodies: [] })).scanSync(data))
      .toEqual({ kind: 'infected', name: 'One.Sig' });
  });

  it('reads a file of many 1 MiB chunks as one text: same signatures, same line numbers (split points)', async () => {
    // ~5 MiB of CRLF lines with bad lines scattered (some land right after a chunk boundary) and comments.
    const lines: string[] = [];
    for (let i = 0; i < 70_000; i++) {
      const h = createHash('sha256').update(String(i)).digest('hex');
      lines.push(i % 9_973 === 0 ? `zz${h}:1:Bad.${i}` : i % 5_000 === 1 ? `# comment ${i}` : `${h}:${i}:H.${i}`);
    }
    const text = lines.join('\r\n');
    const f = join(tmp, 'chunks.hsb');
    writeFileSync(f, text);
    const whole = parseSignatureText(f, text);
    expect(whole.problems.length).toBeGreaterThan(5);
    const err = await loadSignatureFiles([f]).then(() => null, (e: unknown) => e as Error);
    const listed = [...(err?.message ?? '').matchAll(/chunks\.hsb:(\d+):/g)].map((m) => Number(m[1]));
    expect(listed).toEqual(whole.problems.map((p) => p.line));
    const good = join(tmp, 'chunks-good.hsb');
    const goodText = lines.filter((l) => !l.startsWith('zz')).join('\n');
    writeFileSync(good, goodText);
    expect((await loadSignatureFiles([good])).hashes).toEqual(parseSignatureText(good, goodText).set.hashes);
  });

  it('refuses unreadable files and unknown file types', async () => {
    const missing = loadSignatureFiles([join(tmp, 'missing.ndb')]);
    await expect(missing).rejects.toMatchObject({ code: 'MMS_ERR_SCAN_SIGNATURE_IO' });
    const f = join(tmp, 'x.ldb');
    writeFileSync(f, 'whatever');
    await expect(loadSignatureFiles([f])).rejects.toMatchObject({ code: 'MMS_ERR_SCAN_SIGNATURE' });
  });
});
