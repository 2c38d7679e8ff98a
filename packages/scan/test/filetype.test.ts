import { describe, expect, it } from 'vitest';
import { detectFileType } from '../src/index.js';
import { elf, enc, gzip, pe, tar, zip } from './helpers.js';

describe('file types by content', () => {
  it('tells EXE from DLL by the PE characteristics, whatever the name says', async () => {
    expect((await detectFileType(pe(0x0102), 'holiday.jpg', 'image/jpeg')).type).toBe('exe');
    expect((await detectFileType(pe(0x2102), 'x.txt')).type).toBe('dll');
    const r = await detectFileType(pe(), 'photo.jpg', 'image/jpeg');
    expect(r.declared).toBe('jpg');
  });

  it('detects ELF, zip, APK, JAR, gzip, tar, PDF and shebang scripts', async () => {
    expect((await detectFileType(elf())).type).toBe('elf');
    expect((await detectFileType(zip({ 'a.txt': enc('hi') }))).type).toBe('zip');
    const apk = zip({ 'AndroidManifest.xml': enc('<m/>'), 'classes.dex': enc('dex') });
    expect((await detectFileType(apk)).type).toBe('apk');
    const jar = zip({ 'META-INF/MANIFEST.MF': enc('Manifest-Version: 1.0\n'), 'a.class': enc('x') });
    expect((await detectFileType(jar)).type).toBe('jar');
    expect((await detectFileType(gzip(enc('hello hello hello')))).type).toBe('gzip');
    expect((await detectFileType(await tar({ 'a.txt': enc('hi') }))).type).toBe('tar');
    expect((await detectFileType(enc('%PDF-1.4\n1 0 obj\n<<>>\nendobj\n'))).type).toBe('pdf');
    expect((await detectFileType(enc('#!/bin/sh\nrm -rf /\n'))).type).toBe('sh');
  });

  it('recognises magic-less scripts only by their declared name', async () => {
    expect((await detectFileType(enc('@echo off\r\ndel *.*\r\n'), 'run.bat')).type).toBe('bat');
    expect((await detectFileType(enc('WScript.Echo 1'), 'a.VBS')).type).toBe('vbs');
    expect((await detectFileType(enc('alert(1)'), 'a.js')).type).toBe('js');
    expect((await detectFileType(enc('just text'), 'notes.txt')).type).toBeNull();
  });

  it('detects images with file-type', async () => {
    const png = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52);
    expect((await detectFileType(png)).type).toBe('png');
  });
});
