/**
 * `FILE_FILTER=mismatch` (CONTRACT §8): a target whose declared type — its
 * Content-Type or its file name's extension — is harmless media or text while
 * its content is an executable, a script or an archive. A JPEG-named
 * `setup.exe`, or an executable sent as `image/jpeg`, is how a handset user is
 * talked into opening a program. The finding is named `declared→detected`
 * (`image/jpeg→exe`, `.jpg→apk`).
 *
 * Harmless (declared):
 * | by Content-Type | image/*, audio/*, video/*, text/plain, text/x-vcard, text/vcard, text/x-vcalendar,
 * |                 | text/calendar, application/smil |
 * | by extension    | jpg jpeg jpe png gif bmp webp heic heif tif tiff ico wbmp · mp3 m4a aac amr awb wav ogg oga
 * |                 | opus mid midi flac imy mmf · 3gp 3g2 mp4 m4v mov avi mkv webm mpg mpeg ·             |
 * |                 | txt vcf vcs ics smil smi                                                           |
 * Dangerous (detected from content, detectFileType's vocabulary):
 * | executables | exe dll elf macho msi apk jar class wasm lnk swf |
 * | scripts     | sh bat cmd vbs js ps1 (by content only `sh`, from a `#!` line; the rest have no magic) |
 * | archives    | zip gzip tar 7z rar bz2 xz zst lz lz4 lzh arj cab ace cpio ar deb rpm dmg chm Z crx xpi, and a zip |
 * |             | found appended to the content (polyglot) |
 * Anything else detected (another image type, a PDF, an Office document, unknown) is not a mismatch: media
 * containers are often mislabelled by handsets, and only a program or an archive is a lure.
 */

const HARMLESS_MEDIA = /^(image|audio|video)\/[a-z0-9.+-]+$/;
const HARMLESS_TEXT = new Set([
  'text/plain', 'text/x-vcard', 'text/vcard', 'text/x-vcalendar', 'text/calendar', 'application/smil',
]);
const HARMLESS_EXT = new Set([
  'jpg', 'jpeg', 'jpe', 'png', 'gif', 'bmp', 'webp', 'heic', 'heif', 'tif', 'tiff', 'ico', 'wbmp',
  'mp3', 'm4a', 'aac', 'amr', 'awb', 'wav', 'ogg', 'oga', 'opus', 'mid', 'midi', 'flac', 'imy', 'mmf',
  '3gp', '3g2', 'mp4', 'm4v', 'mov', 'avi', 'mkv', 'webm', 'mpg', 'mpeg',
  'txt', 'vcf', 'vcs', 'ics', 'smil', 'smi',
]);
export const DANGEROUS_TYPES: ReadonlySet<string> = new Set([
  'exe', 'dll', 'elf', 'macho', 'msi', 'apk', 'jar', 'class', 'wasm', 'lnk', 'swf',
  'sh', 'bat', 'cmd', 'vbs', 'js', 'ps1',
  'zip', 'gzip', 'tar', '7z', 'rar', 'bz2', 'xz', 'zst', 'lz', 'lz4', 'lzh', 'arj', 'cab', 'ace', 'cpio', 'ar', 'deb',
  'rpm', 'dmg', 'chm', 'Z', 'crx', 'xpi',
]);

/** The harmless type a target claims, as its label (`image/jpeg`, `.jpg`); null when it claims nothing harmless. */
export function harmlessDeclaration(
  name: string | null | undefined, mediaType: string | null | undefined,
): string | null {
  const mt = (mediaType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (HARMLESS_MEDIA.test(mt) || HARMLESS_TEXT.has(mt)) return mt;
  const ext = /\.([A-Za-z0-9]{1,8})$/.exec((name ?? '').trim())?.[1]?.toLowerCase();
  return ext !== undefined && HARMLESS_EXT.has(ext) ? `.${ext}` : null;
}

/**
 * The mismatch finding's name (`declared→detected`) or null. `detected` is detectFileType's type; `embedded` is a
 * container kind found inside content that is otherwise something else (a zip appended to a JPEG).
 */
export function mismatchName(
  name: string | null | undefined, mediaType: string | null | undefined, detected: string | null,
  embedded?: string | null,
): string | null {
  const declared = harmlessDeclaration(name, mediaType);
  if (declared === null) return null;
  if (detected !== null && DANGEROUS_TYPES.has(detected)) return `${declared}→${detected}`;
  if (embedded !== null && embedded !== undefined) return `${declared}→${embedded}`;
  return null;
}
