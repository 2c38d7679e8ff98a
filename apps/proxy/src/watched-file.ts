/**
 * A configuration file the proxy keeps in force while it runs (the MSISDN
 * list, the reply templates): loaded and validated at start (a bad line stops
 * the start with file:line), then re-read when it changes. A bad edit is
 * reported with its line numbers and the previous contents stay in force, so
 * an operator's typo never takes protection down.
 */
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import type { Logger } from 'pino';

export interface Parsed<T> {
  readonly value: T;
  readonly problems: readonly { line: number; reason: string }[];
}

export class WatchedFile<T> {
  private current: T;

  /** `variable` names the setting in messages (e.g. MSISDN_LIST); `count` describes a loaded value for the log. */
  constructor(
    private readonly variable: string,
    readonly path: string,
    private readonly parse: (text: string) => Parsed<T>,
    private readonly log: Logger | null,
    private readonly count: (v: T) => number,
  ) {
    this.current = WatchedFile.load(variable, path, parse);
  }

  static load<T>(variable: string, path: string, parse: (text: string) => Parsed<T>): T {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      throw new Error(`${variable}: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    const { value, problems } = parse(text);
    if (problems.length > 0) {
      throw new Error(`${variable}: ${problems.map((p) => `${path}:${p.line}: ${p.reason}`).join('; ')}`);
    }
    return value;
  }

  get value(): T {
    return this.current;
  }

  /** Re-reads the file when its mtime changes (polling: works on every filesystem). */
  watch(intervalMs = 1000): void {
    watchFile(this.path, { interval: intervalMs, persistent: false }, () => this.reload());
  }

  reload(): void {
    const event = this.variable.toLowerCase().replace(/_/g, '-');
    try {
      this.current = WatchedFile.load(this.variable, this.path, this.parse);
      const n = this.count(this.current);
      this.log?.info({
        event: `${event}-reloaded`, entries: n, msg: `${this.variable} reloaded from ${this.path}: ${n} entries`,
      });
    } catch (e) {
      this.log?.error({ event: `${event}-invalid`, msg: `${(e as Error).message}; previous contents kept` });
    }
  }

  close(): void {
    unwatchFile(this.path);
  }
}
