/** clamd as a ScanEngine: INSTREAM per target, PING for readiness, VERSION for the logs. */
import type { ScanEngine, ScanOutcome, ScanTarget } from '@mmsguard/scan';
import { parseClamdAddresses } from './address.js';
import { ClamdClient, type ClamdClientOptions } from './client.js';
import { ClamdError, ClamdErrorCode } from './errors.js';
import { parseScanReply } from './reply.js';

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
