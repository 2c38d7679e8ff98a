import { describe, expect, it } from 'vitest';
import { BuiltinEngine, DEFAULT_ARCHIVE_LIMITS, expandArchives, inspectTarget } from '../src/index.js';
import { EICAR, enc, gzip, markEncrypted, pe, tar, zip } from './helpers.js';

const engines = [new BuiltinEngine()];
const inspect = (data: Uint8Array, name = 'part', fileFilter?: Set<string>, archiveLimits = DEFAULT_ARCHIVE_LIMITS) =>
  inspectTarget({ path: name, data, name }, {
    engines, timeoutMs: 5000, archiveLimits, ...(fileFilter ? { fileFilter } : {}),
  });

describe('archives are opened and every member is scanned', () => {
  it('finds EICAR inside zip, gzip, tar and tar.gz, naming the member path', async () => {
    const inZip = await inspect(zip({ 'docs/readme.txt': enc('hi'), 'eicar.com': EICAR }), 'a.zip');
    expect(inZip.verdict).toBe('infected');
    expect(inZip.findings).toContainEqual({
      kind: 'infected', path: 'a.zip/eicar.com', engine: 'builtin', name: 'Eicar-Test-Signature',
    });
    const gz = await inspect(gzip(EICAR), 'eicar.com.gz');
    expect(gz.findings[0]).toMatchObject({ kind: 'infected', path: 'eicar.com.gz/eicar.com' });
    const t = await inspect(await tar({ 'x/eicar.com': EICAR }), 'a.tar');
    expect(t.findings[0]).toMatchObject({ path: 'a.tar/x/eicar.com' });
    const tgz = await inspect(gzip(await tar({ 'eicar.com': EICAR })), 'a.tgz');
    expect(tgz.findings[0]).toMatchObject({ kind: 'infected', path: 'a.tgz/a.tar/eicar.com' });
  });

  it('finds EICAR in a zip inside a zip inside a gzip', async () => {
    const r = await inspect(gzip(zip({ 'inner.zip': zip({ 'deep/eicar.com': EICAR }, 0) })), 'x.gz');
    expect(r.verdict).toBe('infected');
    expect(r.targets).toBe(4); // x.gz, its content (a zip), inner.zip, deep/eicar.com
  });

  it('applies the file filter to archive members too', async () => {
    const r = await inspect(zip({ 'setup.exe': pe() }), 'gift.zip', new Set(['exe']));
    expect(r.verdict).toBe('file-type');
    expect(r.findings).toContainEqual({ kind: 'file-type', path: 'gift.zip/setup.exe', type: 'exe' });
  });

  it('keeps a clean archive clean', async () => {
    const r = await inspect(zip({ 'a.txt': enc('hello'), 'b.txt': enc('world') }), 'ok.zip');
    expect(r).toMatchObject({ verdict: 'clean', findings: [], targets: 3 });
  });
});

describe('archive limits are verdicts, never crashes', () => {
  it('calls a high-ratio member a zip bomb without inflating it', async () => {
    const bomb = zip({ 'zeros.bin': new Uint8Array(20 * 1024 * 1024) }, 9);
    expect(bomb.length).toBeLessThan(100_000);
    const r = await inspect(bomb, 'bomb.zip');
    expect(r.verdict).toBe('unscannable');
    expect(r.findings[0]).toMatchObject({ kind: 'unscannable', reason: expect.stringMatching(/ratio/) as string });
  });

  it('stops a gzip whose content exceeds the member limit', async () => {
    const limits = { ...DEFAULT_ARCHIVE_LIMITS, maxMemberBytes: 1024 * 1024 };
    const r = await inspect(gzip(new Uint8Array(3 * 1024 * 1024)), 'big.gz', undefined, limits);
    expect(r.verdict).toBe('unscannable');
  });

  it('stops nesting deeper than maxDepth', async () => {
    let d: Uint8Array = EICAR;
    for (let i = 0; i < 8; i++) d = zip({ [`level${i}.zip`]: d }, 0);
    const r = await inspect(d, 'nest.zip');
    expect(r.verdict).toBe('unscannable');
    expect(r.findings.some((f) => f.kind === 'unscannable' && /deeper/.test(f.reason))).toBe(true);
  });

  it('stops archives with too many members', async () => {
    const files = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`f${i}.txt`, enc('x')]));
    const r = await inspect(zip(files), 'many.zip', undefined, { ...DEFAULT_ARCHIVE_LIMITS, maxMembers: 20 });
    expect(r.verdict).toBe('unscannable');
  });

  it('reports encrypted zip members as unscannable', async () => {
    const r = await inspect(markEncrypted(zip({ 'secret.exe': pe() }, 6)), 'enc.zip');
    expect(r.findings).toContainEqual({
      kind: 'unscannable', path: 'enc.zip/secret.exe', reason: 'encrypted archive member',
    });
  });

  it('refuses a tar member with a huge declared size without reading it', async () => {
    const t = Buffer.from(await tar({ 'a.bin': enc('tiny') }));
    // Rewrite the size field (octal, offset 124) to 8 GiB and fix the header checksum.
    t.write('100000000000\0', 124, 'latin1');
    t.fill(0x20, 148, 156);
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += t[i] as number;
    t.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    const r = await expandArchives({ path: 'huge.tar', data: t });
    expect(r.unscannable).toContainEqual({ path: 'huge.tar/a.bin', reason: expect.stringMatching(/exceeds/) as string });
    expect(r.targets.length).toBe(1);
  });

  it('calls a corrupt zip unscannable', async () => {
    const z = Buffer.from(zip({ 'a.txt': enc('hello world hello world') }));
    const cut = z.subarray(0, z.length - 10);
    const r = await expandArchives({ path: 'bad.zip', data: cut });
    expect(r.unscannable[0]).toMatchObject({ path: 'bad.zip' });
  });
});
