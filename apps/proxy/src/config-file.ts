/**
 * CONFIG_FILE: a dotenv-format file of variables (CONTRACT §6). Strict on purpose: a line we
 * cannot read is an error naming file:line, never skipped, because a skipped line is a setting
 * that silently does not apply.
 *
 *   # comment                      blank lines and lines starting with # are ignored
 *   NAME=value                     the value is the rest of the line, trimmed
 *   export NAME=value              `export ` is tolerated (files shared with a shell)
 *   NAME="a value # not a comment" double quotes: \" and \\ escapes; single quotes: literal
 *   NAME=value   # comment         an unquoted value ends at whitespace + #
 *
 * A name set twice is an error (which line wins is a guess the operator should not have to make).
 * No variable expansion: `$HOME` is four literal characters. This module reads and parses the
 * file; which names are allowed, and what the values mean, is config.ts's business.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/** Past this the "file" is something else (a device, a log pointed at by mistake). */
const MAX_FILE_BYTES = 1024 * 1024;

export interface FileEntry {
  readonly value: string;
  /** 1-based line number, for messages naming file:line. */
  readonly line: number;
}

export class ConfigFileError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly reason: string,
  ) {
    super(line > 0 ? `${file}:${line}: ${reason}` : `${file}: ${reason}`);
  }
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
// Only what a one-line value can need: a quote and a backslash (a line break is refused anyway).
const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\' };

function doubleQuoted(rest: string, fail: (reason: string) => never): [string, string] {
  let out = '';
  for (let i = 1; i < rest.length; i++) {
    const c = rest[i] as string;
    if (c === '"') return [out, rest.slice(i + 1)];
    if (c === '\\') {
      const e = ESCAPES[rest[i + 1] ?? ''];
      if (e === undefined) fail(`unknown escape \\${rest[i + 1] ?? ''} in a double-quoted value`);
      out += e;
      i++;
    } else out += c;
  }
  return fail('unterminated double quote (values are one line)');
}

function parseValue(raw: string, fail: (reason: string) => never): string {
  const s = raw.trimStart();
  let value: string;
  let tail: string;
  if (s.startsWith('"')) [value, tail] = doubleQuoted(s, fail);
  else if (s.startsWith("'")) {
    const end = s.indexOf("'", 1);
    if (end < 0) fail('unterminated single quote (values are one line)');
    [value, tail] = [s.slice(1, end), s.slice(end + 1)];
  } else {
    const hash = /\s#/.exec(s);
    value = (hash === null ? s : s.slice(0, hash.index)).trimEnd();
    tail = '';
  }
  if (tail.trim() !== '' && !/^\s+#/.test(tail)) fail('unexpected text after the closing quote');
  // Control characters in a setting are a paste accident or an attack on whatever logs it.
  if ([...value].some((c) => c !== '\t' && (c < ' ' || c === '\u007f'))) fail('control character in the value');
  return value;
}

/** The text of a config file → its entries; throws ConfigFileError naming file:line. */
export function parseConfigText(text: string, file: string): Map<string, FileEntry> {
  const out = new Map<string, FileEntry>();
  const lines = text.replace(/^\uFEFF/, '').split('\n');
  lines.forEach((raw, i) => {
    const line = i + 1;
    const fail = (reason: string): never => {
      throw new ConfigFileError(file, line, reason);
    };
    const s = raw.replace(/\r$/, '').trim();
    if (s === '' || s.startsWith('#')) return;
    const body = s.replace(/^export\s+/, '');
    const eq = body.indexOf('=');
    if (eq < 0) fail('expected NAME=value');
    const name = body.slice(0, eq).trim();
    if (!NAME.test(name)) fail(`'${name}' is not a variable name`);
    const seen = out.get(name);
    if (seen !== undefined) fail(`${name} is already set on line ${seen.line}`);
    out.set(name, { value: parseValue(body.slice(eq + 1), fail), line });
  });
  return out;
}

/** Reads and parses one config file (a regular file, 1 MiB at most). */
export function readConfigFile(path: string): Map<string, FileEntry> {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new ConfigFileError(path, 0, `cannot open: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new ConfigFileError(path, 0, 'not a regular file');
    if (st.size > MAX_FILE_BYTES) throw new ConfigFileError(path, 0, `larger than ${MAX_FILE_BYTES} bytes`);
    const buf = Buffer.alloc(st.size);
    let n = 0;
    while (n < buf.length) {
      const r = readSync(fd, buf, n, buf.length - n, n);
      if (r === 0) break;
      n += r;
    }
    const text = buf.subarray(0, n).toString('utf8');
    if (text.includes('\uFFFD')) throw new ConfigFileError(path, 0, 'not UTF-8 text');
    return parseConfigText(text, path);
  } finally {
    closeSync(fd);
  }
}
