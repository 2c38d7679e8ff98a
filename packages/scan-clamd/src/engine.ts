/** clamd as a ScanEngine: INSTREAM per target, PING for readiness, VERSION for the logs and /readyz. */
import type { EngineInfo, ScanEngine, ScanOutcome, ScanTarget } from '@mmsguard/scan';
import { parseClamdAddresses } from './address.js';
import { ClamdClient, type ClamdClientOptions } from './client.js';
import { ClamdError, ClamdErrorCode } from './errors.js';
import { parseScanReply } from './reply.js';

/**
 * clamd's VERSION reply: `ClamAV 1.4.6/27500/Tue Jan 14 09:37:01 2025` (engine / newest database /
 * its build time in clamd's local time), or `ClamAV 1.4.6` when no official database is loaded
 * (only .hdb/.ndb files, as in our tests). A reply in another form (a fork, a relay) is kept whole
 * as the version rather than refused: it still tells an operator what answered.
 */
export function parseClamdVersion(reply: string): EngineInfo {
  const v = reply.replace(/\0/g, '').trim();
  if (v === '') throw new ClamdError(ClamdErrorCode.PROTOCOL, 'clamd answered VERSION with nothing');
  const m = /^ClamAV ([^/\s]+)(?:\/(\d+)\/(.+))?$/.exec(v);
  if (m === null) return { version: v };
  const [, version = '', db, date] = m;
  return db === undefined || date === undefined ? { version } : { version, database: Number(db), date: date.trim() };
}

export class ClamdEngine implements ScanEngine {
  readonly name = 'clamd';
  private readonly client: ClamdClient;

  constructor(opts: ClamdClientOptions) {
    this.client = new ClamdClient(opts);
  }

  static fromAddressList(list: string, opts: Omit<ClamdClientOptions, 'addresses'> = {}): ClamdEngine {
    return new ClamdEngine({ ...opts, addresses: parseClamdAddresses(list) });
  }

  async ready(signal: AbortSignal = AbortSignal.timeout(5000)): Promise<void> {
    const r = (await this.client.command('PING', signal)).trim();
    if (r !== 'PONG') throw new ClamdError(ClamdErrorCode.PROTOCOL, 'clamd did not answer PONG');
  }

  async version(signal: AbortSignal = AbortSignal.timeout(5000)): Promise<string> {
    return (await this.client.command('VERSION', signal)).trim();
  }

  /** VERSION, parsed: ClamAV's version, the database version and its date (clamd does not count signatures). */
  async describe(signal: AbortSignal = AbortSignal.timeout(5000)): Promise<EngineInfo> {
    return parseClamdVersion(await this.client.command('VERSION', signal));
  }

  async scan(target: ScanTarget, signal: AbortSignal): Promise<ScanOutcome> {
    try {
      return parseScanReply(await this.client.instream(target.data, signal));
    } catch (e) {
      if (e instanceof ClamdError) return { kind: 'error', code: e.code, message: e.message };
      throw e;
    }
  }

  close(): Promise<void> {
    this.client.close();
    return Promise.resolve();
  }
}
