/**
 * ICAP as a ScanEngine: one RESPMOD (or REQMOD) per target, OPTIONS for readiness, the service's
 * ISTag as its version. Failures become `error` outcomes with MMS_ERR_ICAP_* codes; whether the
 * message then passes or is held is the orchestrator's and the policy's business, not ours.
 */
import type { ScanEngine, ScanOutcome, ScanTarget } from '@mmsguard/scan';
import { parseIcapUrls } from './address.js';
import { IcapClient, type IcapClientOptions, type ServiceInfo } from './client.js';
import { IcapError } from './errors.js';

export interface IcapEngineOptions extends IcapClientOptions {
  /**
   * Per-part bound of our own, on top of the caller's signal (the proxy's SCAN_TIMEOUT): a direct
   * caller without a deadline still gets an answer. Default 30 s.
   */
  readonly timeoutMs?: number;
}

export class IcapEngine implements ScanEngine {
  readonly name = 'icap';
  private readonly client: IcapClient;
  private readonly timeoutMs: number;

  constructor(opts: IcapEngineOptions) {
    this.client = new IcapClient(opts);
    this.timeoutMs = opts.timeoutMs ?? 30_000;
  }

  /** From ICAP_URL: `icap://host:port/service`, comma-separated for failover. */
  static fromUrlList(list: string, opts: Omit<IcapEngineOptions, 'addresses'> = {}): IcapEngine {
    return new IcapEngine({ ...opts, addresses: parseIcapUrls(list) });
  }

  /** Fresh OPTIONS from the first server that answers: its methods, preview, Max-Connections and ISTag. */
  async service(signal: AbortSignal = AbortSignal.timeout(5000)): Promise<ServiceInfo> {
    return this.client.serviceInfo(signal);
  }

  async ready(signal: AbortSignal = AbortSignal.timeout(5000)): Promise<void> {
    await this.client.serviceInfo(signal);
  }

  /** The service's ISTag (its signature version), or '' when the server sends none. */
  async version(signal: AbortSignal = AbortSignal.timeout(5000)): Promise<string> {
    return (await this.client.serviceInfo(signal)).istag ?? '';
  }

  /** ISTags last seen per ICAP_URL entry, without a request (null before the first OPTIONS there). */
  istags(): { readonly url: string; readonly istag: string | null }[] {
    return this.client.istags();
  }

  /** Connections per ICAP_URL entry (in use, idle). */
  connections(): { readonly url: string; readonly active: number; readonly idle: number }[] {
    return this.client.connections();
  }

  async scan(target: ScanTarget, signal: AbortSignal): Promise<ScanOutcome> {
    // Zero bytes carry nothing to find; a round trip would only add a failure mode.
    if (target.data.length === 0) return { kind: 'clean' };
    try {
      return await this.client.scan(target.data, AbortSignal.any([signal, AbortSignal.timeout(this.timeoutMs)]));
    } catch (e) {
      if (e instanceof IcapError) return { kind: 'error', code: e.code, message: e.message };
      throw e;
    }
  }

  close(): Promise<void> {
    this.client.close();
    return Promise.resolve();
  }
}
