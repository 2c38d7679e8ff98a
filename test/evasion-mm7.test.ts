/**
 * MM7 evasion (issue 14 classes 1, 5, 6), end to end through the proxy: ambiguous MIME is refused with 2007,
 * content inside x-uuencode, message/rfc822 attachments and undeclared encodings is found (2004), content we
 * cannot read is unscannable (UNSCANNABLE_ACTION decides), and REMOVE_BLOCKED replaces the part of the MM7 body
 * that carries a blocked leaf, or refuses when no part does. Bodies are written here byte for byte.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { eicarBytes } from '@mmsguard/scan';
import { contentLeaves, parseMime } from '@mmsguard/mm7';
import { startStack, verdicts, type Stack } from './harness.js';
import { postMm7 } from './mm7-submit.js';

let stack: Stack | null = null;
afterEach(async () => {
  await stack?.close();
  stack = null;
});

const NS = 'http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/REL-6-MM7-1-4';
const EICAR = Buffer.from(eicarBytes());
const soap = (subject = 'hello'): string => '<?xml version="1.0" encoding="UTF-8"?>'
  + '<env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/"><env:Header>'
  + `<mm7:TransactionID xmlns:mm7="${NS}" env:mustUnderstand="1">T-evasion</mm7:TransactionID>`
  + `</env:Header><env:Body><SubmitReq xmlns="${NS}"><MM7Version>6.8.0</MM7Version><SenderIdentification>`
  + `<VASPID>vasp1</VASPID><VASID>svc</VASID></SenderIdentification><Recipients><To><Number>+4790000000</Number>`
  + `</To></Recipients><Subject>${subject}</Subject><Content href="cid:a0@x"/></SubmitReq></env:Body></env:Envelope>`;
const CONTENT_TYPE = 'multipart/related; type="text/xml"; boundary="outer"; start="<soap@x>"';

/** A SubmitReq: the SOAP part, then each attachment as written (headers, blank line, body), `preamble` first. */
function submit(
  attachments: (string | Buffer)[], preamble = '', subject?: string,
): { body: Buffer; contentType: string } {
  const chunks: Buffer[] = [Buffer.from(preamble, 'latin1')];
  chunks.push(Buffer.from('--outer\r\nContent-Type: text/xml; charset="utf-8"\r\nContent-ID: <soap@x>\r\n\r\n'));
  chunks.push(Buffer.from(`${soap(subject)}\r\n`));
  for (const a of attachments) chunks.push(Buffer.from('--outer\r\n'), Buffer.from(a), Buffer.from('\r\n'));
  chunks.push(Buffer.from('--outer--\r\n'));
  return { body: Buffer.concat(chunks), contentType: CONTENT_TYPE };
}

const part = (headers: string, body: string | Buffer): Buffer =>
  Buffer.concat([Buffer.from(`${headers.trim().split('\n').join('\r\n')}\r\n\r\n`), Buffer.from(body)]);
const text = (cid: string, s: string): Buffer => part(`Content-Type: text/plain\nContent-ID: <${cid}>`, s);
const b64 = (b: Buffer): string => b.toString('base64').replace(/.{1,76}/g, '$&\r\n').trimEnd();

function uuencode(name: string, data: Buffer): string {
  const char = (x: number): string => String.fromCharCode(x === 0 ? 96 : 32 + x);
  const lines: string[] = [];
  for (let at = 0; at < data.length; at += 45) {
    const chunk = data.subarray(at, at + 45);
    let line = char(chunk.length);
    for (let i = 0; i < chunk.length; i += 3) {
      const [a = 0, b = 0, c = 0] = chunk.subarray(i, i + 3);
      line += [a >> 2, ((a & 3) << 4) | (b >> 4), ((b & 15) << 2) | (c >> 6), c & 63].map(char).join('');
    }
    lines.push(line);
  }
  return `begin 644 ${name}\r\n${lines.join('\r\n')}\r\n\`\r\nend\r\n`;
}

/** A message/rfc822 attachment: a mail whose multipart body holds `inner` parts (each headers + body). */
function rfc822(inner: Buffer[]): Buffer {
  const mail = Buffer.concat([
    Buffer.from('From: a@example.com\r\nSubject: fwd\r\nMIME-Version: 1.0\r\n'
      + 'Content-Type: multipart/mixed; boundary="mail"\r\n\r\n'),
    ...inner.flatMap((p) => [Buffer.from('--mail\r\n'), p, Buffer.from('\r\n')]),
    Buffer.from('--mail--\r\n'),
  ]);
  return part('Content-Type: message/rfc822\nContent-ID: <fwd@x>', mail);
}

const eicarB64Part = (cid: string): Buffer =>
  part(`Content-Type: application/octet-stream; name="${cid}.com"\nContent-Transfer-Encoding: base64`, b64(EICAR));

async function expectRefused(s: Stack, m: { body: Buffer; contentType: string }, code: number): Promise<string> {
  const r = await postMm7(s.mm7, m);
  expect(r.status).toBe(500);
  expect(r.text).toMatch(new RegExp(`<StatusCode>${code}</StatusCode>`));
  expect(r.text).toMatch(/T-evasion/);
  expect(s.sim.received, 'nothing reaches the MMSC').toHaveLength(0);
  return r.text;
}

describe('MM7 ambiguous MIME (issue 14 class 5)', () => {
  it('refuses a part hidden behind a bare CR before the delimiter (\\r--outer) with 2007', async () => {
    stack = await startStack();
    // A CR-splitting stack sees a third part holding EICAR; a CRLF-only parser sees it inside the text part.
    const hidden = Buffer.concat([text('a0@x', 'hello'), Buffer.from('\r--outer\r\n'), eicarB64Part('hid')]);
    await expectRefused(stack, submit([hidden]), 2007);
    const [v] = await verdicts(stack, 1);
    expect(v).toMatchObject({ service: 'MM7', subtype: 'malformed', reason: 'MMS_ERR_MM7_AMBIGUOUS' });
  });

  it('refuses duplicate Content-Transfer-Encoding headers in a part with 2007', async () => {
    stack = await startStack();
    const twice = part('Content-Type: application/octet-stream\nContent-Transfer-Encoding: 7bit\n'
      + 'Content-Transfer-Encoding: base64\nContent-ID: <a0@x>', b64(EICAR));
    await expectRefused(stack, submit([twice]), 2007);
  });
});

describe('MM7 content inside containers and encodings (issue 14 classes 1 and 6)', () => {
  it('refuses x-uuencode EICAR with 2004', async () => {
    stack = await startStack();
    const uu = part('Content-Type: application/octet-stream\nContent-Transfer-Encoding: x-uuencode\n'
      + 'Content-ID: <a0@x>', uuencode('eicar.com', EICAR));
    const fault = await expectRefused(stack, submit([text('t@x', 'see attached'), uu]), 2004);
    expect(fault).toMatch(/Eicar-Test-Signature/);
  });

  it('refuses a message/rfc822 attachment holding base64 EICAR with 2004', async () => {
    stack = await startStack();
    const fault = await expectRefused(stack, submit([text('a0@x', 'fwd'), rfc822([eicarB64Part('inner')])]), 2004);
    expect(fault).toMatch(/Eicar-Test-Signature/);
  });

  it('refuses base64 EICAR in a part that declares 8bit (decoded whatever the headers say) with 2004', async () => {
    stack = await startStack();
    const liar = part('Content-Type: text/plain\nContent-Transfer-Encoding: 8bit\nContent-ID: <a0@x>', b64(EICAR));
    await expectRefused(stack, submit([liar]), 2004);
  });

  it('holds every name against FILE_FILTER: a script called notes.txt by Content-Type, run.bat by filename', async () => {
    stack = await startStack({ FILE_FILTER: 'bat' });
    const script = part('Content-Type: text/plain; name="notes.txt"\n'
      + 'Content-Disposition: attachment; filename="run.bat"\nContent-ID: <a0@x>', '@echo off\r\ndel /q *\r\n');
    const fault = await expectRefused(stack, submit([script]), 2004);
    expect(fault).toMatch(/file type bat not allowed/);
  });

  const unknown = (): { body: Buffer; contentType: string } => submit([
    part('Content-Type: application/octet-stream\nContent-Transfer-Encoding: x-gzip64\nContent-ID: <a0@x>', 'H4sI'),
  ]);

  it('refuses an unknown Content-Transfer-Encoding as unscannable with UNSCANNABLE_ACTION=block (2004)', async () => {
    stack = await startStack({ UNSCANNABLE_ACTION: 'block' });
    await expectRefused(stack, unknown(), 2004);
    const u = stack.logs.find((l) => l['type'] === 'utm');
    expect(u).toMatchObject({ action: 'blocked' });
    expect(String(u?.['msg'])).toMatch(/MMS_ERR_MM7_ENCODING_UNKNOWN/);
  });

  it('forwards it, logged monitored, with UNSCANNABLE_ACTION=pass', async () => {
    stack = await startStack({ UNSCANNABLE_ACTION: 'pass' });
    const m = unknown();
    const r = await postMm7(stack.mm7, m);
    expect(r.status).toBe(200);
    expect(stack.sim.received.at(-1)?.length).toBe(m.body.length);
    expect(stack.logs.find((l) => l['type'] === 'utm')).toMatchObject({ action: 'monitored' });
  });
});

describe('MM7 REMOVE_BLOCKED replaces the carrying part (issue 14 class 6)', () => {
  it('replaces a message/rfc822 attachment holding two EICAR parts once; the rest is forwarded intact', async () => {
    stack = await startStack({ REMOVE_BLOCKED: 'on' });
    const keep = text('a0@x', 'keep me');
    const m = submit([keep, rfc822([eicarB64Part('one'), eicarB64Part('two')])]);
    const r = await postMm7(stack.mm7, m);
    expect(r.status).toBe(200);
    const at = stack.sim.mm7Bodies.at(-1) ?? Buffer.alloc(0);
    const leaves = contentLeaves(parseMime(at, m.contentType));
    expect(leaves.map((l) => l.contentType)).toEqual(['text/xml', 'text/plain', 'text/plain']);
    expect(at.includes(keep)).toBe(true);
    // One replacement for the attachment, however many of its leaves were blocked: no headers inside its body.
    const replaced = leaves.find((l) => l.part?.contentId === '<fwd@x>');
    expect(Buffer.from(replaced?.raw ?? []).toString('utf8')).toMatch(/^[^\r\n]*removed[^]*$/);
    expect(Buffer.from(replaced?.raw ?? []).toString('utf8')).not.toMatch(/Content-Type/i);
    expect(leaves.some((l) => Buffer.from(l.decoded ?? l.raw).includes(EICAR))).toBe(false);
    const [v] = await verdicts(stack, 1);
    expect(v).toMatchObject({ action: 'attachment-removed', service: 'MM7' });
  });

  it('refuses (2004) when the blocked content is in no part (bytes before the first delimiter)', async () => {
    stack = await startStack({ REMOVE_BLOCKED: 'on' });
    await expectRefused(stack, submit([text('a0@x', 'hello')], `${EICAR.toString('latin1')}\r\n`), 2004);
  });

  it('refuses (2004) when the blocked content is in the SOAP envelope: replacing that breaks the request', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'evasion-mm7-'));
    try {
      const ndb = join(dir, 'ops.ndb');
      writeFileSync(ndb, `Ops.Envelope:0:*:${Buffer.from('EVIL-MARKER').toString('hex')}\n`);
      stack = await startStack({ REMOVE_BLOCKED: 'on', SIGNATURE_FILES: ndb });
      const fault = await expectRefused(stack, submit([text('a0@x', 'hello')], '', 'EVIL-MARKER'), 2004);
      expect(fault).toMatch(/Ops\.Envelope/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
