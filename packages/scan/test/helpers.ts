import { zipSync, gzipSync } from 'fflate';
import { deflateRawSync } from 'node:zlib';
import SevenZip from '7z-wasm';
import tarStream from 'tar-stream';
import { eicarBytes } from '../src/index.js';

export const EICAR = eicarBytes();
export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/**
 * `work()`'s result and how many turns the event loop made while it ran (a setImmediate chain): work done on the
 * main thread in one piece lets none happen, work in slices or on the thread pool lets many.
 */
export async function turnsDuring<T>(work: () => Promise<T>): Promise<{ value: T; turns: number }> {
  let turns = 0;
  let done = false;
  const spin = (): void => {
    turns++;
    if (!done) setImmediate(spin);
  };
  setImmediate(spin);
  try {
    return { value: await work(), turns };
  } finally {
    done = true;
  }
}

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

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
export function crc32(d: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of d) c = (CRC_TABLE[(c ^ b) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export interface ZipEntrySpec {
  readonly name: string;
  readonly data: Uint8Array;
  /** 0 stored, 8 deflate (default 8). */
  readonly method?: 0 | 8;
  /** Sizes and CRC in a data descriptor after the data (flag bit 3), zeros in the local header. */
  readonly descriptor?: boolean;
  /** Listed in the central directory (default true): false makes an entry only the local headers show. */
  readonly listed?: boolean;
}

/** A small zip writer for the shapes fflate does not make: hidden entries, data descriptors. */
export function zipOf(entries: readonly ZipEntrySpec[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const method = e.method ?? 8;
    const body = method === 8 ? Buffer.from(deflateRawSync(e.data)) : Buffer.from(e.data);
    const name = Buffer.from(e.name, 'utf8');
    const crc = crc32(e.data);
    const flags = 0x800 | (e.descriptor === true ? 8 : 0);
    const lh = Buffer.alloc(30);
    lh.writeUInt32LE(0x04034b50, 0);
    lh.writeUInt16LE(20, 4);
    lh.writeUInt16LE(flags, 6);
    lh.writeUInt16LE(method, 8);
    if (e.descriptor !== true) {
      lh.writeUInt32LE(crc, 14);
      lh.writeUInt32LE(body.length, 18);
      lh.writeUInt32LE(e.data.length, 22);
    }
    lh.writeUInt16LE(name.length, 26);
    const parts = [lh, name, body];
    if (e.descriptor === true) {
      const dd = Buffer.alloc(16);
      dd.writeUInt32LE(0x08074b50, 0);
      dd.writeUInt32LE(crc, 4);
      dd.writeUInt32LE(body.length, 8);
      dd.writeUInt32LE(e.data.length, 12);
      parts.push(dd);
    }
    const local = Buffer.concat(parts);
    if (e.listed !== false) {
      const ch = Buffer.alloc(46);
      ch.writeUInt32LE(0x02014b50, 0);
      ch.writeUInt16LE(20, 4);
      ch.writeUInt16LE(20, 6);
      ch.writeUInt16LE(flags, 8);
      ch.writeUInt16LE(method, 10);
      ch.writeUInt32LE(crc, 16);
      ch.writeUInt32LE(body.length, 20);
      ch.writeUInt32LE(e.data.length, 24);
      ch.writeUInt16LE(name.length, 28);
      ch.writeUInt32LE(offset, 42);
      centrals.push(Buffer.concat([ch, name]));
    }
    locals.push(local);
    offset += local.length;
  }
  const cd = Buffer.concat(centrals);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(centrals.length, 8);
  eocd.writeUInt16LE(centrals.length, 10);
  eocd.writeUInt32LE(cd.length, 12);
  eocd.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, eocd]);
}

/** A pre-POSIX (v7) tar: ustar magic and version blanked, header checksum recomputed. */
export async function v7tar(files: Record<string, Uint8Array>): Promise<Buffer> {
  const t = Buffer.from(await tar(files));
  for (let h = 0; h + 512 <= t.length && t[h] !== 0;) {
    t.fill(0, h + 257, h + 500); // magic, version, uname, gname, devmajor/minor, prefix: v7 has none of them
    t.fill(0x20, h + 148, h + 156);
    let sum = 0;
    for (let i = h; i < h + 512; i++) sum += t[i] as number;
    t.write(`${sum.toString(8).padStart(6, '0')}\0 `, h + 148, 'latin1');
    const size = parseInt(t.toString('latin1', h + 124, h + 136).replace(/\0.*$/, '').trim() || '0', 8);
    h += 512 + Math.ceil(size / 512) * 512;
  }
  return t;
}

/**
 * A RAR 4.x archive with stored (method 0x30) members, written from the format description (RARLAB's
 * technote.txt): marker block, archive header, one file header + data per member, end-of-archive block.
 * RAR compressors are non-free (Debian's `rar` is not installable here); 7-Zip's unRAR code reads these.
 */
export function rar4Stored(files: Record<string, Uint8Array>, opts: { encrypted?: boolean } = {}): Buffer {
  const block = (type: number, flags: number, rest: Buffer): Buffer => {
    const h = Buffer.alloc(5);
    h.writeUInt8(type, 0);
    h.writeUInt16LE(flags, 1);
    h.writeUInt16LE(7 + rest.length, 3);
    const body = Buffer.concat([h, rest]);
    const crc = Buffer.alloc(2);
    crc.writeUInt16LE(crc32(body) & 0xffff, 0);
    return Buffer.concat([crc, body]);
  };
  const out: Buffer[] = [Buffer.from([0x52, 0x61, 0x72, 0x21, 0x1a, 0x07, 0x00]), block(0x73, 0, Buffer.alloc(6))];
  for (const [name, data] of Object.entries(files)) {
    const n = Buffer.from(name, 'latin1');
    const f = Buffer.alloc(25);
    f.writeUInt32LE(data.length, 0); // PACK_SIZE
    f.writeUInt32LE(data.length, 4); // UNP_SIZE
    f.writeUInt8(3, 8); // HOST_OS Unix
    f.writeUInt32LE(crc32(data), 9);
    f.writeUInt32LE(0x5a210000, 13); // FTIME (DOS date/time)
    f.writeUInt8(20, 17); // UNP_VER 2.0
    f.writeUInt8(0x30, 18); // METHOD store
    f.writeUInt16LE(n.length, 19);
    f.writeUInt32LE(0o100644 << 0, 21); // ATTR
    out.push(block(0x74, 0x8000 | (opts.encrypted === true ? 0x04 : 0), Buffer.concat([f, n])), Buffer.from(data));
  }
  out.push(block(0x7b, 0x4000, Buffer.alloc(0)));
  return Buffer.concat(out);
}

/** A zstd frame holding one raw (uncompressed) block, from RFC 8878: the smallest valid zstd data. */
export function zstdRaw(data: Uint8Array): Buffer {
  if (data.length > 255) throw new Error('zstdRaw: at most 255 bytes');
  const bh = (data.length << 3) | 1; // last block, type raw
  return Buffer.concat([
    Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x20, data.length, bh & 0xff, (bh >> 8) & 0xff, (bh >> 16) & 0xff]),
    Buffer.from(data),
  ]);
}

/** Archives made by 7-Zip itself (the 7z-wasm package's compressor): 7z, xz, bzip2. */
export async function sevenZipArchive(
  files: Record<string, Uint8Array>, type: '7z' | 'xz' | 'bzip2', switches: readonly string[] = [],
): Promise<Uint8Array> {
  const factory = SevenZip as unknown as (o: object) => Promise<{
    FS: { writeFile(p: string, d: Uint8Array): void; readFile(p: string): Uint8Array; mkdir(p: string): void };
    callMain(a: string[]): number;
  }>;
  const sz = await factory({ print: () => undefined, printErr: () => undefined });
  sz.FS.mkdir('/w');
  for (const [name, data] of Object.entries(files)) sz.FS.writeFile(`/w/${name}`, data);
  // 7-Zip appends the type's extension to an archive name without one, so name it with one.
  const out = `/out.${{ '7z': '7z', xz: 'xz', bzip2: 'bz2' }[type]}`;
  const names = Object.keys(files).map((n) => `/w/${n}`);
  const code = sz.callMain(['a', `-t${type}`, '-bd', ...switches, out, '-w/w', ...names]);
  if (code !== 0) throw new Error(`7-Zip exit code ${code}`);
  return sz.FS.readFile(out);
}

/**
 * A RAR 5.0 archive with stored members, written from RARLAB's RAR 5.0 format description: signature, main
 * archive header, one file header (data CRC32, method 0 = store) + data per member, end-of-archive header.
 */
export function rar5Stored(files: Record<string, Uint8Array>): Buffer {
  const vint = (n: number): Buffer => {
    const out: number[] = [];
    do {
      let b = n & 0x7f;
      n = Math.floor(n / 128);
      if (n > 0) b |= 0x80;
      out.push(b);
    } while (n > 0);
    return Buffer.from(out);
  };
  const header = (fields: Buffer): Buffer => {
    const sized = Buffer.concat([vint(fields.length), fields]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32LE(crc32(sized), 0);
    return Buffer.concat([crc, sized]);
  };
  const out: Buffer[] = [Buffer.from([0x52, 0x61, 0x72, 0x21, 0x1a, 0x07, 0x01, 0x00])];
  out.push(header(Buffer.concat([vint(1), vint(0), vint(0)]))); // main: type 1, no flags, archive flags 0
  for (const [name, data] of Object.entries(files)) {
    const n = Buffer.from(name, 'utf8');
    const dataCrc = Buffer.alloc(4);
    dataCrc.writeUInt32LE(crc32(data), 0);
    out.push(header(Buffer.concat([
      vint(2), vint(0x0002), vint(data.length), // file header, has data area, data size
      vint(0x0004), vint(data.length), vint(0o644), dataCrc, // file flags: CRC present; unpacked size; attributes
      vint(0), vint(1), vint(n.length), n, // compression info: version 0, store, no dictionary; host Unix; name
    ])), Buffer.from(data));
  }
  out.push(header(Buffer.concat([vint(5), vint(0), vint(0)])));
  return Buffer.concat(out);
}

/** A cpio archive in the "newc" format (070701 headers of 8-hex-digit fields, 4-byte alignment, TRAILER!!!). */
export function cpioNewc(files: Record<string, Uint8Array>): Buffer {
  const pad4 = (n: number): Buffer => Buffer.alloc((4 - (n % 4)) % 4);
  const entry = (name: string, data: Uint8Array, mode: number, ino: number): Buffer => {
    const fields = [ino, mode, 0, 0, 1, 0, data.length, 0, 0, 0, 0, name.length + 1, 0];
    const head = Buffer.from(`070701${fields.map((f) => f.toString(16).padStart(8, '0')).join('')}${name}\0`, 'latin1');
    return Buffer.concat([head, pad4(head.length), Buffer.from(data), pad4(data.length)]);
  };
  const parts = Object.entries(files).map(([name, data], i) => entry(name, data, 0o100644, i + 1));
  return Buffer.concat([...parts, entry('TRAILER!!!', new Uint8Array(0), 0, 0)]);
}
