/** Temp directories for the quarantine tests, removed after each test, and small readers of what is on disk. */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';

const dirs: string[] = [];

afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

export async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'mmsguard-quarantine-'));
  dirs.push(d);
  return d;
}

export const sha = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex');

export const dataPath = (dir: string, h: string): string => join(dir, h.slice(0, 2), h);

export async function sidecarOf(dir: string, h: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(`${dataPath(dir, h)}.json`, 'utf8')) as Record<string, unknown>;
}

export const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';

export const virus = { kind: 'infected', engine: 'builtin', name: 'Eicar-Test-Signature' } as const;
