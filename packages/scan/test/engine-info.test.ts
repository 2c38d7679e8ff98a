/** The built-in engine describes what it scans with: each loaded file's path, SHA-256, count and kinds. */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BuiltinEngine, loadSignatureFiles } from '../src/index.js';

const tmp = mkdtempSync(join(tmpdir(), 'engine-info-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');
const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

function file(name: string, text: string): string {
  const path = join(tmp, name);
  writeFileSync(path, text);
  return path;
}

describe('BuiltinEngine.describe', () => {
  const hdb = `# comment\n${md5('one')}:3:Test.One\n${md5('two')}:*:Test.Two\n`;
  const hsb = `${sha256('three')}:5:Test.Three\n${createHash('sha1').update('four').digest('hex')}:*:Test.Four\n`;
  const ndb = 'Test.Body:0:*:41424344\n';

  it('lists every loaded file with the SHA-256 of its bytes, its signature count and kinds; EICAR is on', async () => {
    const files = [file('a.hdb', hdb), file('b.hsb', hsb), file('c.ndb', ndb)];
    const info = await (await BuiltinEngine.fromFiles(files)).describe();
    expect(info).toEqual({
      signatures: 5,
      eicar: true,
      files: [
        { path: files[0], sha256: sha256(hdb), signatures: 2, kinds: ['md5'] },
        { path: files[1], sha256: sha256(hsb), signatures: 2, kinds: ['sha1', 'sha256'] },
        { path: files[2], sha256: sha256(ndb), signatures: 1, kinds: ['body'] },
      ],
    });
  });

  it('is fixed when the engine is built: a file changed afterwards shows only in a new engine', async () => {
    const path = file('live.ndb', ndb);
    const engine = await BuiltinEngine.fromFiles([path]);
    const before = await engine.describe();
    writeFileSync(path, `${ndb}Test.Other:0:*:45464748\n`);
    expect(await engine.describe()).toBe(before);
    const after = await (await BuiltinEngine.fromFiles([path])).describe();
    expect(after.files?.[0]?.sha256).not.toBe(before.files?.[0]?.sha256);
    expect(after.signatures).toBe(2);
  });

  it('has no files and no signatures without SIGNATURE_FILES, and an empty file counts none', async () => {
    expect(await new BuiltinEngine().describe()).toEqual({ signatures: 0, files: [], eicar: true });
    const empty = file('empty.hdb', '');
    expect((await loadSignatureFiles([empty])).files).toEqual([
      { path: empty, sha256: sha256(''), signatures: 0, kinds: [] },
    ]);
  });
});
