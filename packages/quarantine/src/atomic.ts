/**
 * Crash-safe file writes: the bytes go to a temp file in the same directory (created exclusively,
 * mode 0600), are fsynced, then renamed over the final name. A reader or a restart sees the old file
 * or the new one, never half of one; a crash leaves at most a `.tmp-*` file, which `open` removes.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';

export const TEMP_PREFIX = '.tmp-';
export const FILE_MODE = 0o600;
export const DIR_MODE = 0o700;

export async function writeAtomic(dir: string, name: string, data: Uint8Array | string): Promise<void> {
  const temp = join(dir, `${TEMP_PREFIX}${randomBytes(8).toString('hex')}`);
  // 'wx': never follow or reuse something already at the temp name (a planted symlink).
  const fh = await open(temp, 'wx', FILE_MODE);
  try {
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(temp, join(dir, name));
  } catch (e) {
    await unlink(temp).catch(() => undefined);
    throw e;
  }
}

/** Makes the renames in `dir` durable (the directory entry itself is data on most file systems). */
export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
