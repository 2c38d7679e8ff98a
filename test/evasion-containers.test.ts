/**
 * Containers end to end (issue 14 classes 6 and 11): bzip2, xz and 7z archives are opened and EICAR in them is
 * refused, a container that cannot be read is unscannable (UNSCANNABLE_ACTION decides, never clean), a zip appended
 * to a JPEG is opened, and what one message expands in archives is bounded across all of its parts.
 */
import { randomBytes } from 'node:crypto';
import { zipSync } from 'fflate';
import { afterEach, describe, expect, it } from 'vitest';
import { FIELD, decode, octetHeader } from 'wap-mms-decoder';
import { DEFAULT_MESSAGE_EXPANSION_BYTES, eicarBytes } from '@mmsguard/scan';
// Archives made by 7-Zip itself (7z-wasm, the scan package's own dependency), at test time: EICAR is never committed.
import { sevenZipArchive } from '../packages/scan/test/helpers.js';
import { expectRefusedBothWays, preload } from './evasion-helpers.js';
import { get, post, startStack, verdicts, type Stack } from './harness.js';
import { part, retrieveConfOf, sendReq, text } from './pdus.js';

let stack: Stack | null = null;
afterEach(async () => {
  await stack?.close();
  stack = null;
});

const EICAR = eicarBytes();
const te = new TextEncoder();
const sendStatus = async (s: Stack, pdu: Uint8Array): Promise<number | null> =>
  octetHeader(decode((await post(s.proxy, pdu)).body), FIELD.RESPONSE_STATUS);

describe('archives 7-Zip opens (issue 14 class 6)', () => {
  for (const [type, name, mediaType] of [
    ['bzip2', 'eicar.com.bz2', 'application/x-bzip2'], ['xz', 'eicar.com.xz', 'application/x-xz'],
    ['7z', 'eicar.7z', 'application/x-7z-compressed'],
  ] as const) {
    it(`refuses EICAR in ${type} on send and on retrieve`, async () => {
      stack = await startStack();
      const archive = await sevenZipArchive({ 'eicar.com': EICAR }, type);
      await expectRefusedBothWays(stack, sendReq([text('hi'), part(name, archive, mediaType)], `T-${type}`), archive);
      expect(stack.logs.find((l) => l['type'] === 'utm')).toMatchObject({ subtype: 'virus' });
    });
  }

  it('holds an xz stream cut short as unscannable: refused with block, forwarded (monitored) with pass', async () => {
    const notes = te.encode('nothing to see here\n'.repeat(50));
    const whole = await sevenZipArchive({ 'notes.txt': notes }, 'xz');
    const cut = sendReq([text('hi'), part('notes.txt.xz', whole.subarray(0, whole.length - 24), 'application/x-xz')]);
    stack = await startStack({ UNSCANNABLE_ACTION: 'block' });
    expect(await sendStatus(stack, cut)).toBe(0xe5);
    expect(stack.sim.received).toHaveLength(0);
    expect(stack.logs.find((l) => l['type'] === 'utm')).toMatchObject({ subtype: 'unscannable', action: 'blocked' });
    await stack.close();
    stack = await startStack({ UNSCANNABLE_ACTION: 'pass' });
    expect(await sendStatus(stack, cut)).toBe(0x80);
    expect(stack.sim.received[0]?.length).toBe(cut.length);
    expect(stack.logs.find((l) => l['type'] === 'utm')).toMatchObject({ subtype: 'unscannable', action: 'monitored' });
  });
});

describe('clean archives stay clean', () => {
  it('forwards a zip of incompressible data byte-identical on send and retrieve (unscannable: block)', async () => {
    // Regression: its bytes hold `=XX` by chance, and the quoted-printable form once guessed from them was a broken
    // zip whose "cannot open" blocked every such zip (8-bit content is no longer guessed to be QP at all).
    const photos = (): Uint8Array => zipSync({ 'photo.raw': randomBytes(50_000), 'notes.txt': te.encode('hi\n') });
    const qpEscape = (b: Uint8Array): boolean => /=[0-9A-F]{2}/.test(Buffer.from(b).toString('latin1'));
    let zip = photos();
    // Bounded: 50,000 random bytes hold an `=XX` almost always; a run of bad luck fails loudly, never hangs.
    for (let i = 0; i < 20 && !qpEscape(zip); i++) zip = photos();
    expect(qpEscape(zip)).toBe(true);
    stack = await startStack({ UNSCANNABLE_ACTION: 'block' });
    const pdu = sendReq([text('hi'), part('photos.zip', zip, 'application/zip')], 'T-clean-zip');
    expect(await sendStatus(stack, pdu)).toBe(0x80);
    expect(stack.sim.received[0]?.length).toBe(pdu.length);
    await preload(stack, 'clean-zip', retrieveConfOf(pdu));
    const got = await get(stack.proxy, '/mms/clean-zip');
    expect(Buffer.from(got.body).equals(Buffer.from(retrieveConfOf(pdu)))).toBe(true);
    expect((await verdicts(stack, 2)).map((v) => v['action'])).toEqual(['forwarded', 'forwarded']);
  });
});

describe('a zip appended to a JPEG (polyglot, issue 14 class 6)', () => {
  it('opens the zip and refuses the EICAR in it, on send and on retrieve', async () => {
    stack = await startStack();
    const jpeg = Buffer.concat([
      Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]), Buffer.from('JFIF\0\x01\x01\0\0\x01\0\x01\0\0', 'latin1'),
      Buffer.alloc(200, 0x11), Buffer.from([0xff, 0xd9]),
    ]);
    const polyglot = Buffer.concat([jpeg, zipSync({ 'inner/eicar.com': EICAR })]);
    await expectRefusedBothWays(stack, sendReq([text('hi'), part('holiday.jpg', polyglot, 'image/jpeg')]), polyglot);
    expect(stack.logs.find((l) => l['type'] === 'utm')).toMatchObject({ subtype: 'virus' });
  });
});

describe('the expansion budget is per message, not per part (issue 14 class 11)', () => {
  it('holds a message whose parts together expand past the budget as unscannable and refuses it', async () => {
    // Each zip holds 24 MiB at ~70:1, inside every per-part limit (ratio 100, 32 MiB a member, 64 MiB a part);
    // three of them expand to 72 MiB, more than one message may.
    const size = 24 * 1024 * 1024;
    expect(3 * size).toBeGreaterThan(DEFAULT_MESSAGE_EXPANSION_BYTES);
    const data = new Uint8Array(size);
    const noise = randomBytes(size / 200);
    for (let i = 0; i < size; i += 200) data[i] = (noise[i / 200] ?? 0) | 1;
    const zip = zipSync({ 'big.bin': [data, { level: 1 }] });
    stack = await startStack();
    const pdu = sendReq(['a.zip', 'b.zip', 'c.zip'].map((n) => part(n, zip, 'application/zip')), 'T-budget');
    expect(await sendStatus(stack, pdu)).toBe(0xe5);
    expect(stack.sim.received).toHaveLength(0);
    const [v] = await verdicts(stack, 1);
    expect(v).toMatchObject({ action: 'blocked', subtype: 'unscannable' });
    expect(stack.logs.find((l) => l['type'] === 'utm')?.['msg']).toMatch(/expansion budget/);
  });
});
