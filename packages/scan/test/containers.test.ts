/**
 * Issue 14 class 6 (containers we could not open passed as clean) and issue 17 (7z and rar opened like zip):
 * every container a receiver can open is opened, or reported unscannable.
 */
import { describe, expect, it } from 'vitest';
import { BuiltinEngine, containerKind, DEFAULT_ARCHIVE_LIMITS, expandArchives, inspectTarget } from '../src/index.js';
import {
  cpioNewc, EICAR, enc, gzip, pe, rar4Stored, rar5Stored, sevenZipArchive, tar, v7tar, zip, zipOf, zstdRaw,
} from './helpers.js';

const engines = [new BuiltinEngine()];
const inspect = (
  data: Uint8Array, name = 'part', declaredType: string | null = null, limits = DEFAULT_ARCHIVE_LIMITS,
) =>
  inspectTarget({ path: name, data, name, declaredType }, { engines, timeoutMs: 10_000, archiveLimits: limits });
const JPEG = Buffer.concat([
  Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10]), Buffer.from('JFIF\0'), Buffer.alloc(2000, 7),
  Buffer.from([0xff, 0xd9]),
]);
const infectedAt = (r: Awaited<ReturnType<typeof inspect>>): string[] =>
  r.findings.filter((f) => f.kind === 'infected').map((f) => f.path);

describe('compressed streams are opened (bzip2, xz, zstd) — 7-Zip, with the same limits', () => {
  it('finds EICAR inside bzip2, xz and zstd', async () => {
    const bz = await sevenZipArchive({ 'eicar.com': EICAR }, 'bzip2');
    const xz = await sevenZipArchive({ 'eicar.com': EICAR }, 'xz');
    expect(containerKind(bz)).toBe('bzip2');
    expect(containerKind(xz)).toBe('xz');
    expect(infectedAt(await inspect(bz, 'eicar.com.bz2'))).toEqual(['eicar.com.bz2/eicar.com']);
    expect(infectedAt(await inspect(xz, 'eicar.com.xz'))).toEqual(['eicar.com.xz/eicar.com']);
    expect(infectedAt(await inspect(zstdRaw(EICAR), 'x.zst'))).toEqual(['x.zst/x']);
  });

  it('finds EICAR with CTRL-Z inside tar.bz2 (two levels through 7-Zip and tar)', async () => {
    const inner = await tar({ 'e.com': Buffer.concat([EICAR, Buffer.from([0x1a])]) });
    const tbz = await sevenZipArchive({ 'a.tar': inner }, 'bzip2');
    expect(infectedAt(await inspect(tbz, 'a.tbz2'))).toEqual(['a.tbz2/a.tar/e.com']);
  });

  it('stops a bzip2 bomb at the limit instead of inflating it', async () => {
    const bomb = await sevenZipArchive({ 'zeros': new Uint8Array(40 * 1024 * 1024) }, 'bzip2');
    expect(bomb.length).toBeLessThan(2000);
    const t0 = performance.now();
    const r = await inspect(bomb, 'zeros.bz2');
    expect(r.verdict).toBe('unscannable');
    const reason = expect.stringMatching(/ratio|limit/) as string;
    expect(r.findings[0]).toMatchObject({ kind: 'unscannable', reason });
    expect(performance.now() - t0).toBeLessThan(5000);
  });

  it('calls corrupt bzip2 / xz data unscannable, never clean', async () => {
    const xz = Buffer.from(await sevenZipArchive({ 'a.txt': enc('hello '.repeat(200)) }, 'xz'));
    xz.fill(0x55, 30, 60);
    expect((await inspect(xz, 'a.xz')).verdict).toBe('unscannable');
    const bz = Buffer.concat([Buffer.from('BZh91AY&SY'), Buffer.alloc(50, 0x41)]);
    expect((await inspect(bz, 'a.bz2')).verdict).toBe('unscannable');
  });
});

describe('7z and rar members are opened like zip members (issue 17)', () => {
  it('finds EICAR inside a 7z, naming the member', async () => {
    const a = await sevenZipArchive({ 'readme.txt': enc('hello'), 'eicar.com': EICAR }, '7z');
    const r = await inspect(a, 'gift.7z');
    expect(r.verdict).toBe('infected');
    expect(infectedAt(r)).toEqual(['gift.7z/eicar.com']);
    expect(r.targets).toBe(3);
  });

  it('finds EICAR in every member of a solid 7z whatever their order, and in a zip inside a 7z', async () => {
    const files = {
      'a.txt': enc('a'.repeat(5000)), 'b.com': EICAR, 'c.txt': enc('c'), 'd.zip': zip({ 'e.com': EICAR }),
    };
    const r = await inspect(await sevenZipArchive(files, '7z', ['-ms=on']), 's.7z');
    expect(infectedAt(r).sort()).toEqual(['s.7z/b.com', 's.7z/d.zip/e.com']);
    expect(r.findings.filter((f) => f.kind === 'unscannable')).toEqual([]);
  });

  it('finds EICAR inside a rar (RAR 4, stored)', async () => {
    const r = await inspect(rar4Stored({ 'notes.txt': enc('hi there'), 'eicar.com': EICAR }), 'a.rar');
    expect(infectedAt(r)).toEqual(['a.rar/eicar.com']);
    expect(r.findings.filter((f) => f.kind === 'unscannable')).toEqual([]);
  });

  it('finds EICAR inside a RAR 5 archive', async () => {
    const a = rar5Stored({ 'a.txt': enc('hello'), 'eicar.com': EICAR });
    expect(containerKind(a)).toBe('rar5');
    const r = await inspect(a, 'five.rar');
    expect(infectedAt(r)).toEqual(['five.rar/eicar.com']);
    expect(r.findings.filter((f) => f.kind === 'unscannable')).toEqual([]);
  });

  it('reports an encrypted rar member as unscannable', async () => {
    const r = await inspect(rar4Stored({ 'eicar.com': EICAR }, { encrypted: true }), 'e.rar');
    expect(r.verdict).toBe('unscannable');
    const want = { kind: 'unscannable', path: 'e.rar/eicar.com', reason: 'encrypted archive member' };
    expect(r.findings).toContainEqual(want);
  });

  it('reports encrypted 7z members and encrypted headers as unscannable', async () => {
    const enc7z = await sevenZipArchive({ 'eicar.com': EICAR }, '7z', ['-psecret']);
    expect((await inspect(enc7z, 'e.7z')).findings).toContainEqual({
      kind: 'unscannable', path: 'e.7z/eicar.com', reason: 'encrypted archive member',
    });
    const hidden = await sevenZipArchive({ 'eicar.com': EICAR }, '7z', ['-psecret', '-mhe=on']);
    const r = await inspect(hidden, 'h.7z');
    expect(r.verdict).toBe('unscannable');
    expect(r.findings[0]).toMatchObject({ path: 'h.7z' });
  });

  it('refuses a 7z member over the member limit without extracting it, and still scans the others', async () => {
    const a = await sevenZipArchive({ 'big.bin': new Uint8Array(3 * 1024 * 1024), 'e.com': EICAR }, '7z', ['-ms=off']);
    const r = await inspect(a, 'm.7z', null, { ...DEFAULT_ARCHIVE_LIMITS, maxMemberBytes: 1024 * 1024 });
    expect(r.findings).toContainEqual({
      kind: 'unscannable', path: 'm.7z/big.bin', reason: expect.stringMatching(/exceeds/) as string,
    });
    expect(infectedAt(r)).toEqual(['m.7z/e.com']);
  });

  it('refuses members behind a solid block too large to decode', async () => {
    const files = { 'a.bin': new Uint8Array(3 * 1024 * 1024), 'b.com': EICAR };
    const a = await sevenZipArchive(files, '7z', ['-ms=on']);
    const r = await inspect(a, 's.7z', null, { ...DEFAULT_ARCHIVE_LIMITS, maxTotalBytes: 2 * 1024 * 1024 });
    expect(r.verdict).toBe('unscannable');
    expect(r.findings.some((f) => f.kind === 'unscannable' && f.path === 's.7z/b.com')).toBe(true);
  });

  it('calls a truncated 7z and a damaged rar unscannable', async () => {
    const a = await sevenZipArchive({ 'a.txt': enc('hello world '.repeat(50)) }, '7z');
    expect((await inspect(a.subarray(0, a.length - 20), 't.7z')).verdict).toBe('unscannable');
    const rar = rar4Stored({ 'a.txt': enc('hello world') });
    expect((await inspect(rar.subarray(0, 30), 't.rar')).verdict).toBe('unscannable');
  });
});

describe('zip structures are found wherever unzip finds them', () => {
  it('opens a zip appended to a JPEG (polyglot) and finds EICAR', async () => {
    const poly = Buffer.concat([JPEG, zip({ 'eicar.com': EICAR })]);
    const r = await inspect(poly, 'holiday.jpg', 'image/jpeg');
    expect(r.fileType.type).toBe('jpg');
    expect(infectedAt(r)).toEqual(['holiday.jpg/eicar.com']);
  });

  it('opens a PK\\x07\\x08-prefixed (spanned marker) zip', async () => {
    const z = Buffer.concat([Buffer.from([0x50, 0x4b, 0x07, 0x08]), zip({ 'eicar.com': EICAR })]);
    expect(infectedAt(await inspect(z, 'span.zip'))).toEqual(['span.zip/eicar.com']);
  });

  it('stops the overlapping-entries bomb (one deflated kernel listed 64 times) by the ratio across it', async () => {
    const one = zipOf([{ name: 'k.bin', data: new Uint8Array(1024 * 1024) }]);
    const cdAt = one.readUInt32LE(one.length - 6);
    const entry = one.subarray(cdAt, one.length - 22);
    const entries = Array.from({ length: 64 }, (_, i) => {
      const e = Buffer.from(entry);
      e.write(String(i % 10), 46 + 0, 'latin1'); // names k.bin → 0.bin … so that they differ
      return e;
    });
    const eocd = Buffer.from(one.subarray(one.length - 22));
    eocd.writeUInt16LE(64, 8);
    eocd.writeUInt16LE(64, 10);
    eocd.writeUInt32LE(entry.length * 64, 12);
    const bomb = Buffer.concat([one.subarray(0, cdAt), ...entries, eocd]);
    const r = await inspect(bomb, 'overlap.zip');
    expect(r.verdict).toBe('unscannable');
    expect(r.findings).toContainEqual({
      kind: 'unscannable', path: 'overlap.zip', reason: expect.stringMatching(/ratio above 100:1 across/) as string,
    });
    expect(r.targets).toBeLessThan(10);
  });

  it('scans a local entry the central directory does not list', async () => {
    const z = zipOf([{ name: 'a.txt', data: enc('visible') }, { name: 'hidden.com', data: EICAR, listed: false }]);
    const listed = await expandArchives({ path: 'h.zip', data: z });
    expect(listed.targets.map((t) => t.path)).toEqual(['h.zip', 'h.zip/a.txt', 'h.zip/hidden.com']);
    expect(infectedAt(await inspect(z, 'h.zip'))).toEqual(['h.zip/hidden.com']);
  });

  it('walks data-descriptor members (sizes after the data), stored and deflated', async () => {
    for (const method of [0, 8] as const) {
      const z = zipOf([
        { name: 'x.txt', data: enc('x'.repeat(300)), method, descriptor: true, listed: false },
        { name: 'e.com', data: EICAR, method, descriptor: true, listed: false },
      ]);
      expect(infectedAt(await inspect(z, 'd.zip')), `method ${method}`).toEqual(['d.zip/e.com']);
    }
  });

  it('opens a zip followed by junk after its end record, and a zip inside an executable (SFX)', async () => {
    const junk = Buffer.concat([zip({ 'eicar.com': EICAR }), Buffer.from('trailing junk'.repeat(10))]);
    expect(infectedAt(await inspect(junk, 'j.zip'))).toEqual(['j.zip/eicar.com']);
    const sfx = Buffer.concat([pe(), zip({ 'eicar.com': EICAR })]);
    expect(infectedAt(await inspect(sfx, 'setup.exe'))).toEqual(['setup.exe/eicar.com']);
  });

  it('reads a gzip as gunzip does: trailing bytes ignored, a damaged second member unscannable', async () => {
    const trailing = Buffer.concat([gzip(EICAR), Buffer.from('PK\x03\x04 not a member')]);
    const r = await inspect(trailing, 'e.gz');
    expect(infectedAt(r)).toEqual(['e.gz/e']);
    expect(r.findings.filter((f) => f.kind === 'unscannable')).toEqual([]);
    const second = Buffer.concat([gzip(EICAR), Buffer.from([0x1f, 0x8b, 0x08, 0, 9, 9, 9])]);
    const r2 = await inspect(second, 'two.gz');
    expect(infectedAt(r2)).toEqual(['two.gz/two']);
    expect(r2.findings).toContainEqual({ kind: 'unscannable', path: 'two.gz', reason: 'corrupt gzip data' });
  });

  it('finds a zip appended to a gzip (gunzip ignores it, unzip opens it)', async () => {
    const both = Buffer.concat([gzip(enc('harmless')), zip({ 'eicar.com': EICAR })]);
    expect(infectedAt(await inspect(both, 'x.gz'))).toContain('x.gz/eicar.com');
  });

  it('leaves an ordinary JPEG alone, even with stray PK bytes in it', async () => {
    const stray = Buffer.concat([JPEG.subarray(0, 100), Buffer.from('PK\x03\x04PK\x05\x06'), JPEG.subarray(100)]);
    for (const d of [JPEG, stray]) {
      const r = await inspect(d, 'p.jpg', 'image/jpeg');
      expect(r).toMatchObject({ verdict: 'clean', targets: 1 });
    }
  });
});

describe('tar without magic, and containers we recognise but do not open', () => {
  it('opens a v7 (pre-POSIX) tar', async () => {
    const t = await v7tar({ 'a.txt': enc('hello'), 'eicar.com': EICAR });
    expect(t.subarray(257, 262).toString('latin1')).not.toBe('ustar');
    expect(containerKind(t)).toBe('tar');
    expect(infectedAt(await inspect(t, 'old.tar'))).toEqual(['old.tar/eicar.com']);
  });

  it('scans the members of a truncated tar read before the damage, and calls the tar unscannable', async () => {
    const t = await tar({ 'eicar.com': EICAR, 'big.bin': new Uint8Array(4096) });
    const r = await inspect(t.subarray(0, 1024 + 512 + 100), 'cut.tar');
    expect(infectedAt(r)).toEqual(['cut.tar/eicar.com']);
    expect(r.findings).toContainEqual({ kind: 'unscannable', path: 'cut.tar', reason: 'corrupt tar archive' });
  });

  it('opens a cpio (newc) archive through 7-Zip', async () => {
    const c = cpioNewc({ 'a.txt': enc('hello'), 'eicar.com': EICAR });
    expect(containerKind(c)).toBe('cpio');
    expect(infectedAt(await inspect(c, 'a.cpio'))).toEqual(['a.cpio/eicar.com']);
  });

  it('does not take text that opens like a magic number for an archive (phone numbers, words)', async () => {
    for (const text of ['0707012345 call me back', '070707 is my code', '`\u00eatext', 'LZIP is a compressor']) {
      const r = await inspect(Buffer.from(text, 'latin1'), 'message.txt', 'text/plain');
      expect(r, text).toMatchObject({ verdict: 'clean', targets: 1 });
    }
  });

  it('reports lzip, lz4 and ACE data as unscannable, never clean', async () => {
    const samples: Record<string, Buffer> = {
      'a.lz': Buffer.concat([Buffer.from('LZIP\x01\x0c'), Buffer.alloc(40, 1)]),
      'a.lz4': Buffer.concat([Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x64, 0x40, 0xa7]), Buffer.alloc(40, 1)]),
      'a.ace': Buffer.concat([Buffer.alloc(7, 0), Buffer.from('**ACE**'), Buffer.alloc(40, 1)]),
    };
    for (const [name, d] of Object.entries(samples)) {
      const r = await inspect(d, name);
      expect(r.verdict, name).toBe('unscannable');
    }
  });

  it('reports content the detector calls a container that nothing opened (armored PGP) as unscannable', async () => {
    const pgp = enc('-----BEGIN PGP MESSAGE-----\n\nhQEMA1Iu2f7vJd2rAQf/U7xxxxx\n=abcd\n-----END PGP MESSAGE-----\n');
    const r = await inspect(pgp, 'note.asc');
    expect(r.fileType.type).toBe('pgp');
    expect(r.findings).toContainEqual({ kind: 'unscannable', path: 'note.asc', reason: 'pgp content was not opened' });
  });
});
