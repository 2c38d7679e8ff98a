/**
 * CONTRACT §7 REPLACEMENT_SIZE=original: with REMOVE_BLOCKED=on, the rewritten message has exactly the
 * original's byte length (size-based billing), on MM1 send, MM1 retrieve and MM7 (a base64 attachment:
 * its encoded length). MM1 covers a replacement padded (a 512-byte exe, whose WSP data-length uintvar
 * takes two bytes) and one cut (EICAR, shorter than the template text); the rewritten PDU must decode.
 */
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { decode } from 'wap-mms-decoder';
import { eicarBytes } from '@mmsguard/scan';
import { fitText } from '../apps/proxy/src/pipeline/replacement.js';
import { get, post, startStack, type Stack } from './harness.js';
import { eicar, part, peExe, retrieveConfOf, sendReq, text } from './pdus.js';
import { postMm7, submitReq } from './mm7-submit.js';

let stack: Stack | null = null;
afterEach(async () => {
  await stack?.close();
  stack = null;
});

const ON = { REMOVE_BLOCKED: 'on', REPLACEMENT_SIZE: 'original', FILE_FILTER: 'exe' };
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const hasEicar = (b: Uint8Array): boolean => Buffer.from(b).includes(Buffer.from(eicarBytes()));
const stored = (s: Stack): Uint8Array => [...s.sim.messages.values()].at(-1) ?? new Uint8Array(0);

describe('fitText', () => {
  it('pads with spaces after the text, cuts at a character boundary', () => {
    expect(fitText('abc', 6)).toBe('abc   ');
    expect(fitText('abcdef', 3)).toBe('abc');
    // 'é' is two bytes: a cut inside it keeps neither byte and pads instead.
    expect(Buffer.byteLength(fitText('aé', 2))).toBe(2);
    expect(fitText('aé', 2)).toBe('a ');
  });
});

describe('REPLACEMENT_SIZE=original', () => {
  for (const [name, blocked] of [['padded (512-byte exe)', part('x.exe', peExe())], ['cut (EICAR)', eicar()]] as const) {
    it(`MM1 send, ${name}: the MMSC gets the original length, without the part`, async () => {
      stack = await startStack(ON);
      const pdu = sendReq([text('keep me'), blocked], 'T-len-1');
      expect((await post(stack.proxy, pdu)).status).toBe(200);
      expect(stack.sim.received).toHaveLength(1);
      const got = stack.sim.received[0];
      expect(got?.sha256).not.toBe(sha(pdu));
      expect(got?.length).toBe(pdu.length);
      const out = stored(stack);
      expect(hasEicar(out)).toBe(false);
      const parts = decode(out).parts ?? [];
      expect(parts).toHaveLength(2);
      expect(parts[1]?.contentType.mediaType).toBe('text/plain');
    });
  }

  it('MM1 send without it: the length changes (the test above can fail)', async () => {
    stack = await startStack({ REMOVE_BLOCKED: 'on', FILE_FILTER: 'exe' });
    const pdu = sendReq([text('keep me'), part('x.exe', peExe())], 'T-len-2');
    await post(stack.proxy, pdu);
    expect(stack.sim.received[0]?.length).not.toBe(pdu.length);
  });

  it('MM1 retrieve: the handset gets the original length, decodable, without the part', async () => {
    stack = await startStack(ON);
    const pdu = retrieveConfOf(sendReq([text('keep me'), part('x.exe', peExe()), eicar()], 'T-len-3'));
    await fetch(`${stack.simUrl}/_sim/messages/m`, {
      method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: pdu,
    });
    const r = await get(stack.proxy, '/mms/m');
    expect(r.status).toBe(200);
    expect(sha(r.body)).not.toBe(sha(pdu));
    expect(r.body.length).toBe(pdu.length);
    expect(hasEicar(r.body)).toBe(false);
    expect(decode(r.body).parts).toHaveLength(3);
  });

  it('MM7: a base64 attachment replaced within its encoded length; the body keeps its length', async () => {
    stack = await startStack(ON);
    const b64 = Buffer.from(Buffer.concat([Buffer.from(eicarBytes())]).toString('base64'));
    const m = submitReq({
      vaspId: 'V', tid: 'T-len-4',
      attachments: [{ name: 'a.txt', type: 'text/plain', data: Buffer.from('keep') }, { name: 'e.com', type: 'application/octet-stream', data: b64 }],
    });
    const body = Buffer.from(m.body.toString('latin1').replace(
      'Content-ID: <a1@x>\r\nContent-Transfer-Encoding: binary', 'Content-ID: <a1@x>\r\nContent-Transfer-Encoding: base64',
    ), 'latin1');
    const r = await postMm7(stack.mm7, { ...m, body });
    expect(r.status).toBe(200);
    const got = stack.sim.received.at(-1);
    expect(got?.sha256).not.toBe(sha(body));
    expect(got?.length).toBe(body.length);
    const sent = stack.sim.mm7Bodies.at(-1) ?? Buffer.alloc(0);
    expect(sent.includes(b64)).toBe(false);
    expect(sent.includes(Buffer.from('keep'))).toBe(true);
  });
});
