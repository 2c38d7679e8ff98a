/** FILE_FILTER=mismatch (CONTRACT §8, issue 17): declared harmless media/text, content executable/script/archive. */
import { describe, expect, it } from 'vitest';
import { BuiltinEngine, harmlessDeclaration, inspectTarget, mismatchName } from '../src/index.js';
import { elf, enc, pe, zip } from './helpers.js';

const engines = [new BuiltinEngine()];
const inspect = (data: Uint8Array, name: string | null, declaredType: string | null, filter = ['mismatch']) =>
  inspectTarget({ path: name ?? 'part', data, name, declaredType }, {
    engines, timeoutMs: 5000, fileFilter: new Set(filter),
  });
const types = (r: Awaited<ReturnType<typeof inspect>>): string[] =>
  r.findings.flatMap((f) => (f.kind === 'file-type' ? [`${f.path}: ${f.type}`] : []));
const JPEG = Buffer.concat([
  Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10]), Buffer.from('JFIF\0'), Buffer.alloc(500, 3),
]);

describe('declared harmless, detected dangerous', () => {
  it('names the finding declared→detected, from the Content-Type first, else the file name', async () => {
    expect(types(await inspect(pe(), 'setup.exe', 'image/jpeg'))).toEqual(['setup.exe: image/jpeg→exe']);
    expect(types(await inspect(pe(), 'photo.jpg', 'application/octet-stream'))).toEqual(['photo.jpg: .jpg→exe']);
    const song = await inspect(elf(), 'song.mp3', 'audio/mpeg; name=song.mp3');
    expect(types(song)).toEqual(['song.mp3: audio/mpeg→elf']);
    const note = await inspect(enc('#!/bin/sh\nrm -rf ~\n'), 'note.txt', 'text/plain');
    expect(types(note)).toEqual(['note.txt: text/plain→sh']);
    expect(types(await inspect(zip({ 'a.txt': enc('x') }), 'pic.png', null))).toEqual(['pic.png: .png→zip']);
  });

  it('calls a JPEG with a zip appended (polyglot) a mismatch', async () => {
    const r = await inspect(Buffer.concat([JPEG, zip({ 'a.txt': enc('hello') })]), 'img.jpg', 'image/jpeg');
    expect(types(r)).toEqual(['img.jpg: image/jpeg→zip']);
  });

  it('checks archive members by their names', async () => {
    const r = await inspect(zip({ 'cute.gif': pe() }), 'album.zip', 'application/zip');
    expect(types(r)).toEqual(['album.zip/cute.gif: .gif→exe']);
  });

  it('leaves honest parts, other media, and undeclared content alone', async () => {
    expect(types(await inspect(JPEG, 'a.jpg', 'image/jpeg'))).toEqual([]);
    expect(types(await inspect(JPEG, 'a.png', 'image/png'))).toEqual([]); // mislabelled media is not a lure
    expect(types(await inspect(pe(), 'setup.exe', 'application/x-msdownload'))).toEqual([]);
    expect(types(await inspect(pe(), null, null))).toEqual([]);
  });

  it('is off unless FILE_FILTER lists mismatch, and composes with type filters', async () => {
    expect(types(await inspect(pe(), 'a.jpg', 'image/jpeg', []))).toEqual([]);
    const both = await inspect(pe(), 'a.jpg', 'image/jpeg', ['exe', 'mismatch']);
    expect(types(both)).toEqual(['a.jpg: exe', 'a.jpg: image/jpeg→exe']);
  });

  it('reads declarations case-insensitively and ignores parameters', () => {
    expect(harmlessDeclaration('X.JPG', null)).toBe('.jpg');
    expect(harmlessDeclaration(null, 'Image/JPEG; charset=x')).toBe('image/jpeg');
    expect(harmlessDeclaration('a.exe', 'application/octet-stream')).toBeNull();
    expect(mismatchName('a.txt', null, 'pdf')).toBeNull();
  });
});
