/**
 * The MSISDN list file (MSISDN_LIST): loaded and validated at start (a bad
 * line stops the start with file:line), then re-read when it changes. A bad
 * edit is reported with its line numbers and the previous rules stay in force.
 */
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import type { Logger } from 'pino';
import { parseMsisdnList, type ListRule } from '@mmsguard/policy';

export class MsisdnListFile {
  private current: readonly ListRule[];

  constructor(readonly path: string, private readonly log: Logger | null) {
    this.current = MsisdnListFile.load(path);
  }

  static load(path: string): ListRule[] {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      throw new Error(`MSISDN_LIST: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    const { rules, problems } = parseMsisdnList(text);
    if (problems.length > 0) throw new Error(`MSISDN_LIST: ${problems.map((p) => `${path}:${p.line}: ${p.reason}`).join('; ')}`);
    return rules;
  }

  get rules(): readonly ListRule[] {
    return this.current;
  }

  /** Re-reads the file when its mtime changes (polling: works on every filesystem). */
  watch(intervalMs = 1000): void {
    watchFile(this.path, { interval: intervalMs, persistent: false }, () => this.reload());
  }

  reload(): void {
    try {
      this.current = MsisdnListFile.load(this.path);
      this.log?.info({ event: 'msisdn-list-reloaded', rules: this.current.length, msg: `MSISDN list reloaded: ${this.current.length} rules` });
    } catch (e) {
      this.log?.error({ event: 'msisdn-list-invalid', msg: `${(e as Error).message}; previous rules kept` });
    }
  }

  close(): void {
    unwatchFile(this.path);
  }
}
