/**
 * File type by content, never by name (names only refine scripts, which have
 * no magic). `file-type` does the magic numbers; we add what it lacks: DLL vs
 * EXE (PE characteristics), APK and JAR (zip members), MSI (CFB root CLSID),
 * shebang scripts, and the name-only script types (.bat, .vbs, .js, .ps1).
 */
import { fileTypeFromBuffer } from 'file-type';

export interface FileTypeInfo {
  /**
   * Our vocabulary (what FILE_FILTER lists): exe, dll, elf, macho, msi, ole, apk, jar, zip, gzip, tar, 7z, rar, pdf,
   * sh, bat, cmd, vbs, js, ps1, or file-type's extension (jpg, png, bz2, xz ...); null when unknown.
   */
  readonly type: string | null;
  readonly mime: string | null;
  /** The type the declared name or media type suggests, for the log's declared-vs-detected comparison. */
  readonly declared: string | null;
}

const enc = new TextEncoder();
const ANDROID_MANIFEST = enc.encode('AndroidManifest.xml');
const JAR_MANIFEST = enc.encode('META-INF/MANIFEST.MF');
// MSI database root storage CLSID {000C1084-0000-0000-C000-000000000046}, as stored (little-endian fields).
const MSI_CLSID = Uint8Array.of(
  0x84, 0x10, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46,
);

function contains(data: Uint8Array, needle: Uint8Array): boolean {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).indexOf(needle) >= 0;
}

function peType(data: Uint8Array): 'exe' | 'dll' | null {
  if (data.length < 0x40 || data[0] !== 0x4d || data[1] !== 0x5a) return null;
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const pe = v.getUint32(0x3c, true);
  if (pe + 24 > data.length || v.getUint32(pe, false) !== 0x50450000) return null;
  const characteristics = v.getUint16(pe + 22, true);
  return (characteristics & 0x2000) !== 0 ? 'dll' : 'exe';
}

const BY_EXTENSION: Record<string, string> = {
  exe: 'exe', dll: 'dll', elf: 'elf', so: 'elf', msi: 'msi', apk: 'apk', jar: 'jar', zip: 'zip', gz: 'gzip',
  tgz: 'gzip',
  tar: 'tar', '7z': '7z', rar: 'rar', pdf: 'pdf', sh: 'sh', bat: 'bat', cmd: 'cmd', vbs: 'vbs', vbe: 'vbs', js: 'js',
  jse: 'js', ps1: 'ps1', com: 'exe', scr: 'exe', jpg: 'jpg', jpeg: 'jpg', png: 'png', gif: 'gif', txt: 'txt',
  smil: 'smil',
};

const SCRIPT_BY_NAME = new Set(['bat', 'cmd', 'vbs', 'js', 'ps1']);

function extOf(name: string | null | undefined): string | null {
  if (name === null || name === undefined) return null;
  const m = /\.([A-Za-z0-9]{1,8})$/.exec(name.trim());
  return m?.[1] !== undefined ? m[1].toLowerCase() : null;
}

function declaredType(name: string | null | undefined, mediaType: string | null | undefined): string | null {
  const ext = extOf(name);
  if (ext !== null) return BY_EXTENSION[ext] ?? ext;
  if (mediaType === null || mediaType === undefined) return null;
  const sub = mediaType.toLowerCase().split('/')[1] ?? '';
  if (sub === 'jpeg') return 'jpg';
  if (sub === 'zip' || sub === 'x-zip-compressed') return 'zip';
  if (sub === 'x-msdownload' || sub === 'x-msdos-program') return 'exe';
  if (sub === 'vnd.android.package-archive') return 'apk';
  if (sub === 'java-archive') return 'jar';
  return sub.length > 0 ? sub : null;
}

export async function detectFileType(
  data: Uint8Array, name?: string | null, mediaType?: string | null,
): Promise<FileTypeInfo> {
  const declared = declaredType(name, mediaType);
  const pe = peType(data);
  if (pe !== null) return { type: pe, mime: 'application/x-msdownload', declared };
  if (data.length >= 2 && data[0] === 0x23 && data[1] === 0x21) {
    return { type: 'sh', mime: 'text/x-shellscript', declared };
  }
  let ft: Awaited<ReturnType<typeof fileTypeFromBuffer>>;
  try {
    // Magic numbers sit at the start (tar's at 257); 64 KiB bounds file-type's work on big parts.
    ft = await fileTypeFromBuffer(data.length > 65536 ? data.subarray(0, 65536) : data);
  } catch {
    ft = undefined;
  }
  if (ft !== undefined) {
    let type: string = ft.ext;
    if (ft.ext === 'zip' || ft.ext === 'jar' || ft.ext === 'apk') {
      type = contains(data, ANDROID_MANIFEST) ? 'apk' : contains(data, JAR_MANIFEST) ? 'jar' : 'zip';
    } else if (ft.ext === 'cfb' || ft.ext === 'msi') {
      type = contains(data, MSI_CLSID) ? 'msi' : 'ole';
    } else if (ft.ext === 'gz') type = 'gzip';
    else if (ft.ext === 'exe') type = 'exe';
    return { type, mime: ft.mime, declared };
  }
  // No magic: scripts are only recognisable by their declared name.
  const ext = extOf(name);
  if (ext !== null && SCRIPT_BY_NAME.has(BY_EXTENSION[ext] ?? '')) {
    return { type: BY_EXTENSION[ext] ?? ext, mime: null, declared };
  }
  return { type: null, mime: null, declared };
}
