/**
 * MM1 evasion through part headers and transfer encodings (issue 14 class 1), end to end: each payload is sent
 * (m-send-req → m-send-conf 0xE5, nothing reaches the MMSC) and downloaded (m-retrieve-conf → 0xE3, the payload
 * never reaches the handset). The part headers are written octet for octet, the way a hostile client writes them.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FIELD, decode, encode, octetHeader, type MmsHeader } from 'wap-mms-decoder';
import { eicarBytes } from '@mmsguard/scan';
import { expectRefusedBothWays } from './evasion-helpers.js';
import { post, startStack, verdicts, type Stack } from './harness.js';
import { sendReq, text } from './pdus.js';

let stack: Stack | null = null;
afterEach(async () => {
  await stack?.close();
  stack = null;
});

const EICAR = Buffer.from(eicarBytes());
const CTE = 'Content-Transfer-Encoding';
const te = new TextEncoder();

/** Octets from strings (UTF-8) and numbers. */
function octets(...chunks: (string | number)[]): Uint8Array {
  const out: number[] = [];
  for (const c of chunks) {
    if (typeof c === 'number') out.push(c);
    else out.push(...te.encode(c));
  }
  return Uint8Array.from(out);
}

/** An m-send-req whose second part's entry header block (Content-Type first) is exactly `block`. */
function withBlock(block: Uint8Array, data: Uint8Array, tid: string): Uint8Array {
  const headers: MmsHeader[] = [
    { type: 'well-known', code: 0x0c, name: '', value: { kind: 'octet', value: 0x80 } },
    { type: 'well-known', code: 0x18, name: '', value: { kind: 'text', value: tid } },
    { type: 'well-known', code: 0x0d, name: '', value: { kind: 'octet', value: 0x92 } },
    { type: 'well-known', code: 0x09, name: '', value: { kind: 'from', address: null } },
    {
      type: 'well-known', code: 0x17, name: '',
      value: { kind: 'encoded-string', value: { text: '+4790000001/TYPE=PLMN', charset: null } },
    },
  ];
  const octetStream = { mediaType: 'application/octet-stream', params: [] };
  return encode({
    headers, contentType: { mediaType: 'application/vnd.wap.multipart.mixed', params: [] },
    parts: [text('hi'), { contentType: octetStream, data, rawHeaders: block }],
  });
}

/** The same, with a textual Content-Type (as handsets write an unregistered type) followed by `partHeaders`. */
function withHeaders(partHeaders: Uint8Array, data: Uint8Array, tid: string): Uint8Array {
  return withBlock(Uint8Array.from([...octets('application/octet-stream', 0), ...partHeaders]), data, tid);
}

const base64Eicar = (): Uint8Array => te.encode(EICAR.toString('base64'));

describe('part headers as Android reads them (issue 14 class 1)', () => {
  it('blocks base64 EICAR whose Content-Transfer-Encoding is an application header quoted with 0x7F', async () => {
    stack = await startStack();
    const b64 = base64Eicar();
    await expectRefusedBothWays(stack, withHeaders(octets(0x7f, CTE, 0, 'base64', 0), b64, 'T-7f'), b64);
  });

  it('blocks base64 EICAR whose Content-Transfer-Encoding follows one stray text octet', async () => {
    stack = await startStack();
    const b64 = base64Eicar();
    await expectRefusedBothWays(stack, withHeaders(octets('X', CTE, 0, 'base64', 0), b64, 'T-stray'), b64);
  });

  it('decodes every reading: ours says quoted-printable, Android\'s base64 (junk octets it skips)', async () => {
    // Android's Base64 drops every octet outside the alphabet before decoding, so dots between the characters
    // change nothing for it; they do make the bytes no clean base64 to a content check.
    stack = await startStack();
    const dotted = te.encode([...EICAR.toString('base64')].join('.'));
    const headers = octets(CTE, 0, 'quoted-printable', 0, 'X', CTE, 0, 'base64', 0);
    await expectRefusedBothWays(stack, withHeaders(headers, dotted, 'T-both'), dotted);
  });

  it('holds every name against FILE_FILTER: a script only Android names run.bat', async () => {
    // Android drops the control octet from the name: we read "run.b\x01at" (no type), it shows run.bat.
    stack = await startStack({ FILE_FILTER: 'bat' });
    const script = te.encode('@echo off\r\ndel /q %USERPROFILE%\\*\r\n');
    const name = octets(0x83, 0x85, 'run.b\x01at', 0); // text/plain; name="run.b\x01at"
    await expectRefusedBothWays(stack, withBlock(Uint8Array.from([name.length, ...name]), script, 'T-name'), script);
    const [v] = await verdicts(stack, 1);
    expect(v).toMatchObject({ subtype: 'file-filter' });
    expect(v?.['reason']).toMatch(/file type bat not allowed/);
  });
});

describe('decoded whatever the headers say (issue 14 class 1)', () => {
  const qp = (): Uint8Array => te.encode([...EICAR.toString('latin1')].map((c) => `=${c.charCodeAt(0).toString(16)
    .toUpperCase().padStart(2, '0')}`).join(''));
  const uu = (): Uint8Array => {
    const char = (x: number): string => String.fromCharCode(x === 0 ? 96 : 32 + x);
    const lines: string[] = [];
    for (let at = 0; at < EICAR.length; at += 45) {
      const chunk = EICAR.subarray(at, at + 45);
      let line = char(chunk.length);
      for (let i = 0; i < chunk.length; i += 3) {
        const [a = 0, b = 0, c = 0] = chunk.subarray(i, i + 3);
        line += [a >> 2, ((a & 3) << 4) | (b >> 4), ((b & 15) << 2) | (c >> 6), c & 63].map(char).join('');
      }
      lines.push(line);
    }
    return te.encode(`begin 644 eicar.com\n${lines.join('\n')}\n\`\nend\n`);
  };
  const cases: [string, () => Uint8Array][] = [
    ['base64', base64Eicar], ['quoted-printable', qp], ['uuencoded', uu],
  ];
  for (const [what, payload] of cases) {
    it(`blocks ${what} EICAR in a part with no Content-Transfer-Encoding at all`, async () => {
      stack = await startStack();
      const data = payload();
      await expectRefusedBothWays(stack, withHeaders(new Uint8Array(0), data, `T-${what}`), data);
      expect(stack.logs.find((l) => l['type'] === 'utm')).toMatchObject({ subtype: 'virus' });
    });
  }

  it('forwards plain text byte-identical: words are not decoded into findings', async () => {
    stack = await startStack({ UNSCANNABLE_ACTION: 'block', FILE_FILTER: 'exe,zip,mismatch' });
    const pdu = sendReq([text('Meet me at 18:00 = six, at the usual place. AbCdEfGhIjKlMnOpQrStUvWxYz0123456789+/')]);
    const r = await post(stack.proxy, pdu);
    expect(octetHeader(decode(r.body), FIELD.RESPONSE_STATUS)).toBe(0x80);
    expect(stack.sim.received[0]?.length).toBe(pdu.length);
  });
});
