/**
 * The EICAR test file as AV engines detect it: the 68-byte string at the
 * start of the file, optionally followed by whitespace, 128 bytes at most.
 * The string is assembled at run time so this source file does not itself
 * trip a scanner.
 */
const EICAR = new TextEncoder().encode(['X5O!P%@AP[4\\PZX54(P^)7CC)7}$', 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'].join(''));

export const EICAR_NAME = 'Eicar-Test-Signature';
export const EICAR_LENGTH = EICAR.length;

/** The test string itself, for tests and demos. */
export function eicarBytes(): Uint8Array {
  return EICAR.slice();
}

const WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0d]);

export function isEicar(data: Uint8Array): boolean {
  if (data.length < EICAR.length || data.length > 128) return false;
  for (let i = 0; i < EICAR.length; i++) if (data[i] !== EICAR[i]) return false;
  for (let i = EICAR.length; i < data.length; i++) if (!WHITESPACE.has(data[i] as number)) return false;
  return true;
}
