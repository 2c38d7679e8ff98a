/**
 * Stable codes of ICAP failures. Each becomes an `error` ScanOutcome (the orchestrator's
 * SCAN_ERROR_ACTION decides fail-open or fail-closed), except URL, which refuses the start.
 */
export const IcapErrorCode = {
  /** ICAP_URL could not be parsed. */
  URL: 'MMS_ERR_ICAP_URL',
  /** No address in ICAP_URL accepted a connection. */
  CONNECT: 'MMS_ERR_ICAP_CONNECT',
  /** A server accepted but gave no complete answer before the deadline (or no pooled connection came free). */
  TIMEOUT: 'MMS_ERR_ICAP_TIMEOUT',
  /** An ICAP error status: 404 no such service, 500 the server's own engine failed, 503 overloaded … */
  STATUS: 'MMS_ERR_ICAP_STATUS',
  /** A reply that is no ICAP reply: garbage, a broken frame, a limit crossed, the connection reset or closed early. */
  PROTOCOL: 'MMS_ERR_ICAP_PROTOCOL',
  /** The service's OPTIONS offer neither RESPMOD nor REQMOD. */
  METHOD: 'MMS_ERR_ICAP_METHOD',
  /** c-icap's virus_scan runs without an antivirus engine (its ISTag says so): it would call everything clean. */
  NO_ENGINE: 'MMS_ERR_ICAP_NO_ENGINE',
} as const;

export type IcapErrorCode = (typeof IcapErrorCode)[keyof typeof IcapErrorCode];

export class IcapError extends Error {
  override readonly name = 'IcapError';
  constructor(readonly code: IcapErrorCode, message: string) {
    super(message);
  }
}
