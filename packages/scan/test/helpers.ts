import { zipSync, gzipSync } from 'fflate';
import tarStream from 'tar-stream';
import { eicarBytes } from '../src/index.js';

export const EICAR = eicarBytes();
export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

export function zip(files: Record<string, Uint8Array>, level: 0 | 6 | 9 = 6): Uint8Array {
  return zipSync(Object.fromEntries(Object.entries(files).map(([k, v]) => [k, [v, { level }]])));
}

export function gzip(data: Uint8Array): Uint8Array {
  return gzipSync(data);
}

export async function tar(files: Record<string, Uint8Array>): Promise<Uint8Array> {
  const pack = tarStream.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((r) => pack.on('end', () => r()));
  for (const [name, data] of Object.entries(files)) pack.entry({ name, size: data.length }, Buffer.from(data));
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** Sets the "encrypted" general-purpose flag on every local and central header of a zip. */
export function markEncrypted(z: Uint8Array): Uint8Array {
  const b = Buffer.from(z);
  for (let i = 0; i + 4 <= b.length; i++) {
    if (b[i] === 0x50 && b[i + 1] === 0x4b && b[i + 2] === 3 && b[i + 3] === 4) b[i + 6] = (b[i + 6] as number) | 1;
    if (b[i] === 0x50 && b[i + 1] === 0x4b && b[i + 2] === 1 && b[i + 3] === 2) b[i + 8] = (b[i + 8] as number) | 1;
  }
  return b;
}

/** A minimal PE file (MZ header, PE signature, COFF header with the given characteristics). */
export function pe(characteristics = 0x0102): Uint8Array {
  const b = Buffer.alloc(512);
  b.write('MZ', 0, 'latin1');
  b.writeUInt32LE(0x80, 0x3c);
  b.write('PE\0\0', 0x80, 'latin1');
  b.writeUInt16LE(0x14c, 0x84);
  b.writeUInt16LE(characteristics, 0x80 + 22);
  return b;
}

export function elf(): Uint8Array {
  const b = Buffer.alloc(128);
  b.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]);
  b.writeUInt16LE(2, 16);
  b.writeUInt16LE(0x3e, 18);
  b.writeUInt32LE(1, 20);
  return b;
}
