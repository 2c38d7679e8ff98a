/** Reply templates through the proxy: MM1 Response-Text, replacement parts, MM7 StatusText, hot reload. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { FIELD, decode, encodedStrings } from 'wap-mms-decoder';
import { eicarBytes } from '@mmsguard/scan';
import { post, startStack, type Stack } from './harness.js';
import { eicar, sendReq, text } from './pdus.js';
import { postMm7, submitReq } from './mm7-submit.js';

const dir = mkdtempSync(join(tmpdir(), 'templates-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let stack: Stack | null = null;
afterEach(async () => {
  await stack?.close();
  stack = null;
});
const responseText = (b: Uint8Array): string | undefined => encodedStrings(decode(b), FIELD.RESPONSE_TEXT)[0]?.text;

describe('reply templates', () => {
  it('writes the operator\u2019s texts into m-send-conf, replacement parts and MM7 StatusText, and reloads them', async () => {
    const file = join(dir, 'replies.txt');
    writeFileSync(file, [
      '# operator texts',
      'send.blocked = Stopped: {virus} in {filename} (ref {transaction_id})',
      'mm7.refused = Refused by operator policy: {virus} at {date}',
    ].join('\n'));
    stack = await startStack({ REPLY_TEMPLATES: file });
    const s = stack;
    expect(responseText((await post(s.proxy, sendReq([text('hi'), eicar()], 'T-tpl-1'))).body)).toBe('Stopped: Eicar-Test-Signature in eicar.com (ref T-tpl-1)');
    const r = await postMm7(s.mm7, submitReq({ vaspId: 'V1', attachments: [{ name: 'e.com', type: 'application/octet-stream', data: eicarBytes() }] }));
    expect(r.status).toBe(500);
    expect(r.text).toMatch(/<StatusCode>2004<\/StatusCode><StatusText>Refused by operator policy: Eicar-Test-Signature at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ<\/StatusText>/);

    // a bad edit is refused with its line and the last good texts stay
    writeFileSync(file, 'send.blocked = {nope}\n');
    await new Promise((res) => setTimeout(res, 1500));
    expect(s.logs.find((l) => l['event'] === 'reply-templates-invalid')?.['msg']).toMatch(/replies\.txt:1: unknown variable \{nope\}/);
    expect(responseText((await post(s.proxy, sendReq([eicar()], 'T-tpl-2'))).body)).toMatch(/^Stopped: /);

    // a good edit takes effect
    writeFileSync(file, 'send.blocked = New text: {reason}\n');
    await new Promise((res) => setTimeout(res, 1500));
    expect(responseText((await post(s.proxy, sendReq([eicar()], 'T-tpl-3'))).body)).toMatch(/^New text: virus Eicar-Test-Signature/);
  });

  it('fills the replacement part from its template (REMOVE_BLOCKED=on)', async () => {
    const file = join(dir, 'replacement.txt');
    writeFileSync(file, 'replacement = {{removed}} {filename}: {virus}\\nCall 123.\n');
    stack = await startStack({ REPLY_TEMPLATES: file, REMOVE_BLOCKED: 'on' });
    await post(stack.proxy, sendReq([text('hi'), eicar()]));
    const forwarded = decode([...stack.sim.messages.values()][0]!);
    const texts = (forwarded.parts ?? []).map((p) => Buffer.from(p.data).toString('utf8'));
    expect(texts).toContain('{removed} eicar.com: Eicar-Test-Signature\nCall 123.');
  });

  it('refuses to start on a bad template file, naming the line', async () => {
    const file = join(dir, 'bad.txt');
    writeFileSync(file, 'send.blocked = ok\nsend.nothing = x\n');
    await expect(startStack({ REPLY_TEMPLATES: file })).rejects.toThrow(/bad\.txt:2: unknown template send\.nothing/);
  });
});
