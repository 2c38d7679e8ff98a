/**
 * The EICAR test file as its definition (eicar.org) states it: the 68-byte
 * string at the start of the file, optionally followed by any combination of
 * the whitespace characters space, tab, LF, CR and CTRL-Z (0x1A, the DOS
 * end-of-file mark that old editors append), the whole file 128 bytes at
 * most. A file the definition does not cover (string not first, other bytes
 * after it) is not EICAR: the built-in engine promises exactly this, and
 * every form a receiver might open (archive members, transfer-decoded parts)
 * is a separate target, so the rule applies to each of them.
 * The string is assembled at run time so this source file does not itself
 * trip a scanner.
 */
const EICAR = new TextEncoder().encode(
  ['X5O!P%@AP[4\\PZX54(P^)7CC)7}$', 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'].join(''),
);

export const EICAR_NAME = 'Eicar-Test-Signature';
export const EICAR_LENGTH = EICAR.length;

/** The test string itself, for tests and demos. */
export function eicarBytes(): Uint8Array {
  return EICAR.slice();
}

/** The definition's whitespace: space, tab, LF, CR and CTRL-Z. */
const WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0d, 0x1a]);
/** The definition's size bound: string plus trailing whitespace, 128 bytes at most. */
const EICAR_MAX_FILE = 128;

export function isEicar(data: Uint8Array): boolean {
  if (data.length < EICAR.length || data.length > EICAR_MAX_FILE) return false;
  for (let i = 0; i < EICAR.length; i++) if (data[i] !== EICAR[i]) return false;
  for (let i = EICAR.length; i < data.length; i++) if (!WHITESPACE.has(data[i] as number)) return false;
  return true;
}
