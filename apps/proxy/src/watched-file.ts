/**
 * A configuration file the proxy keeps in force while it runs (the MSISDN
 * list, the reply templates): loaded and validated at start (a bad line stops
 * the start with file:line), then re-read when it changes, and on SIGHUP. A
 * bad edit is reported with its line numbers and the previous contents stay
 * in force, so an operator's typo never takes protection down.
 *
 * The value in force is not kept here: it is part of the proxy's generation
 * (generation.ts), which messages pin when they arrive. A change seen by the
 * poll is handed to `onChange`, which makes a new generation of it.
 */
import { createHash } from 'node:crypto';
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import type { Logger } from 'pino';

export interface Parsed<T> {
  readonly value: T;
  readonly problems: readonly { line: number; reason: string }[];
}

/** A file that cannot be loaded: which setting, which file and line (0: the file as a whole). */
export class FileProblem extends Error {
  constructor(
    message: string,
    readonly variable: string,
    readonly file: string,
    readonly line: number,
  ) {
    super(message);
  }
}

/** A loaded file: its value and the SHA-256 of the bytes parsed (a reload says whether it changed). */
export interface Loaded<T> {
  readonly value: T;
  readonly sha256: string;
}

export class WatchedFile<T> {
  private current: Loaded<T>;
  private listener: (() => void) | null = null;
  private changed: ((v: Loaded<T>) => void) | null = null;

  /**
   * `variable` names the setting in messages (e.g. MSISDN_LIST); `count` describes a loaded value for the log.
   * `initial`: the contents already loaded (a reload validated them); otherwise the file is loaded now.
   */
  constructor(
    readonly variable: string,
    readonly path: string,
    private readonly parse: (text: string) => Parsed<T>,
    private readonly log: Logger | null,
    private readonly count: (v: T) => number,
    initial?: Loaded<T>,
  ) {
    this.current = initial ?? WatchedFile.read(variable, path, parse);
  }

  /** Reads and validates the file; throws FileProblem naming file:line. Changes nothing. */
  static read<T>(variable: string, path: string, parse: (text: string) => Parsed<T>): Loaded<T> {
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'error';
      throw new FileProblem(`${variable}: cannot read ${path}: ${code}`, variable, path, 0);
    }
    const { value, problems } = parse(bytes.toString('utf8'));
    const first = problems[0];
    if (first !== undefined) {
      const list = problems.map((p) => `${path}:${p.line}: ${p.reason}`).join('; ');
      throw new FileProblem(`${variable}: ${list}`, variable, path, first.line);
    }
    return { value, sha256: createHash('sha256').update(bytes).digest('hex') };
  }

  static load<T>(variable: string, path: string, parse: (text: string) => Parsed<T>): T {
    return WatchedFile.read(variable, path, parse).value;
  }

  get value(): T {
    return this.current.value;
  }

  get loaded(): Loaded<T> {
    return this.current;
  }

  /** `f` is told of every good change the poll finds (not of `set`). */
  onChange(f: (v: Loaded<T>) => void): void {
    this.changed = f;
  }

  /** Contents a reload validated (and put in its generation): the poll compares against these from now on. */
  set(v: Loaded<T>): void {
    this.current = v;
  }

  /** Re-reads the file when its mtime changes (polling: works on every filesystem). */
  watch(intervalMs = 1000): void {
    if (this.listener !== null) return;
    this.listener = () => this.reload();
    watchFile(this.path, { interval: intervalMs, persistent: false }, this.listener);
  }

  reload(): void {
    const event = this.variable.toLowerCase().replace(/_/g, '-');
    let next: Loaded<T>;
    try {
      next = WatchedFile.read(this.variable, this.path, this.parse);
    } catch (e) {
      this.log?.error({ event: `${event}-invalid`, msg: `${(e as Error).message}; previous contents kept` });
      return;
    }
    // The poll also fires for a touch or for a SIGHUP reload that already took these bytes.
    if (next.sha256 === this.current.sha256) return;
    this.current = next;
    const n = this.count(next.value);
    this.log?.info({
      event: `${event}-reloaded`, entries: n, msg: `${this.variable} reloaded from ${this.path}: ${n} entries`,
    });
    this.changed?.(next);
  }

  close(): void {
    if (this.listener === null) return;
    unwatchFile(this.path, this.listener);
    this.listener = null;
  }
}
