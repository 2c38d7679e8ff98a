/** What the evasion tests (test/evasion*.test.ts) share: a message sent and downloaded through the proxy. */
import { expect } from 'vitest';
import { FIELD, decode, octetHeader } from 'wap-mms-decoder';
import { get, post, verdicts, type Stack } from './harness.js';
import { retrieveConfOf } from './pdus.js';

/** Puts `pdu` in the simulated MMSC's store under `id`, for a download through the proxy. */
export async function preload(s: Stack, id: string, pdu: Uint8Array): Promise<void> {
  const res = await fetch(`${s.simUrl}/_sim/messages/${id}`, {
    method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: pdu,
  });
  expect(res.status).toBe(200);
}

/**
 * Sends the m-send-req `pdu` (m-send-conf 0xE5, nothing reaches the MMSC), then downloads it as an m-retrieve-conf
 * (0xE3): refused both ways, `payload` delivered to no one.
 */
export async function expectRefusedBothWays(s: Stack, pdu: Uint8Array, payload: Uint8Array): Promise<void> {
  const sent = await post(s.proxy, pdu);
  expect(octetHeader(decode(sent.body), FIELD.RESPONSE_STATUS), 'm-send-conf status').toBe(0xe5);
  expect(s.sim.received, 'nothing reaches the MMSC').toHaveLength(0);
  await preload(s, 'evasion', retrieveConfOf(pdu));
  const got = await get(s.proxy, '/mms/evasion');
  expect(got.status).toBe(200);
  expect(octetHeader(decode(got.body), FIELD.RETRIEVE_STATUS), 'm-retrieve-conf status').toBe(0xe3);
  expect(Buffer.from(got.body).includes(Buffer.from(payload)), 'payload withheld from the handset').toBe(false);
  const v = await verdicts(s, 2);
  expect(v.map((r) => r['action'])).toEqual(['blocked', 'blocked']);
}
