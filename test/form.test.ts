/** The VASP form interface (CONTRACT §9): POST /mm7/form on MM7_PORT, scanned as an MM7 SubmitReq, JSON answers. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseMm7Message, decodedBody } from '@mmsguard/mm7';
import { startStack, verdicts, type Stack } from './harness.js';

const stacks: Stack[] = [];
afterEach(async () => {
  await Promise.all(stacks.splice(0).map((s) => s.close()));
});
async function stack(env: Record<string, string> = {}): Promise<Stack> {
  const s = await startStack(env);
  stacks.push(s);
  return s;
}
// The EICAR test string, assembled at run time so this file is not itself a test virus.
const EICAR = Buffer.from(['X5O!P%@AP[4\\PZX54(P^)7CC)7}$', 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'].join(''));

function form(fields: [string, string][], files: { field?: string; name: string; type: string; data: Uint8Array }[]): FormData {
  const f = new FormData();
  for (const [k, v] of fields) f.append(k, v);
  for (const x of files) f.append(x.field ?? 'file', new Blob([x.data], { type: x.type }), x.name);
  return f;
}
async function postForm(s: Stack, body: FormData | { raw: Buffer; type: string }): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
  const init = body instanceof FormData
    ? { method: 'POST', body }
    : { method: 'POST', body: body.raw, headers: { 'content-type': body.type } };
  const res = await fetch(`${s.mm7}/mm7/form`, init);
  return { status: res.status, json: (await res.json()) as Record<string, unknown>, headers: res.headers };
}
const base: [string, string][] = [['to', '+4790000001'], ['to', '+4790000002'], ['from', '1234'], ['subject', 'hello'], ['vasp_id', 'VASP-F'], ['vas_id', 'news']];

describe('VASP form submission', () => {
  it('submits a clean form as a SubmitReq; the MMSC gets the attachment byte for byte; JSON answer with message_id', async () => {
    const s = await stack();
    const photo = Buffer.alloc(70_000);
    for (let i = 0; i < photo.length; i++) photo[i] = (i * 7919) & 0xff;
    const r = await postForm(s, form(base, [{ name: 'photo.bin', type: 'application/octet-stream', data: photo }, { name: 'a.txt', type: 'text/plain', data: Buffer.from('hi\r\n--x\r\n') }]));
    expect(r.status).toBe(200);
    expect(r.json['status_code']).toBe(1000);
    expect(r.json['message_id']).toMatch(/^sim-mm7-/);
    expect(s.sim.mm7Bodies).toHaveLength(1);
    const got = s.sim.mm7Bodies[0]!;
    const ct = s.sim.received.at(-1)!.headers['content-type'] as string;
    const m = parseMm7Message(got, ct);
    expect(m.soap.operation).toBe('SubmitReq');
    expect(m.soap.vaspId).toBe('VASP-F');
    expect(m.soap.recipients).toEqual(['+4790000001', '+4790000002']);
    expect(m.soap.namespace).toContain('REL-6-MM7-1-4');
    const atts = m.attachments.map((a) => Buffer.from(decodedBody(a.part)));
    expect(atts[0]!.equals(photo)).toBe(true);
    expect(atts[1]!.toString()).toBe('hi\r\n--x\r\n');
    const [v] = await verdicts(s, 1);
    expect(v).toMatchObject({ service: 'MM7', action: 'forwarded', msgtype: 'SubmitReq', status: 200 });
  });

  it('posts the SubmitReq to MM7_UPSTREAM_URL as written, its path included (not that path plus "/")', async () => {
    const s = await stack({ MM7_UPSTREAM_URL: '{SIM}/mmsc/mm7?vasp=1' });
    const r = await postForm(s, form(base, [{ name: 'a.txt', type: 'text/plain', data: Buffer.from('hi') }]));
    expect(r.status).toBe(200);
    expect(s.sim.received.at(-1)?.url).toBe('/mmsc/mm7?vasp=1');
  });

  it('refuses an EICAR file with 422 and the findings; nothing reaches the MMSC; UTM record as MM7', async () => {
    const s = await stack();
    const r = await postForm(s, form(base, [{ name: 'eicar.com', type: 'application/octet-stream', data: EICAR }]));
    expect(r.status).toBe(422);
    expect(r.json['status_code']).toBe(2004);
    expect(r.json['findings']).toEqual([expect.objectContaining({ subtype: 'virus', file: 'eicar.com', virus: expect.stringMatching(/eicar/i) as string })]);
    expect(s.sim.mm7Bodies).toHaveLength(0);
    expect(s.logs.find((l) => l['type'] === 'utm')).toMatchObject({ service: 'MM7', subtype: 'virus', action: 'blocked' });
    const [v] = await verdicts(s, 1);
    expect(v).toMatchObject({ service: 'MM7', action: 'blocked', status: 422 });
  });

  it('answers 400 JSON for a broken multipart body, a non-form content type and a form without recipients', async () => {
    const s = await stack();
    const broken = Buffer.from('--b\r\nContent-Disposition: form-data; name="to"\r\n\r\n+47900');
    let r = await postForm(s, { raw: broken, type: 'multipart/form-data; boundary=b' });
    expect(r.status).toBe(400);
    expect(r.json['error']).toBe('malformed');
    expect(String(r.json['reason'])).toBe('MMS_ERR_FORM_MALFORMED');
    r = await postForm(s, { raw: Buffer.from('to=1'), type: 'text/plain' });
    expect(r.status).toBe(400);
    r = await postForm(s, form([['subject', 'x']], [{ name: 'a.txt', type: 'text/plain', data: Buffer.from('a') }]));
    expect(r.status).toBe(400);
    expect(String(r.json['reason'])).toBe('MMS_ERR_FORM_FIELD');
    expect(s.sim.mm7Bodies).toHaveLength(0);
  });

  it('refuses too many files (400) and a form over MM7_OVERSIZE_LIMIT (413), streaming or declared', async () => {
    const s = await stack({ MM7_OVERSIZE_LIMIT: '64KiB' });
    const many = Array.from({ length: 21 }, (_, i) => ({ name: `f${i}.txt`, type: 'text/plain', data: Buffer.from(`f${i}`) }));
    let r = await postForm(s, form(base, many));
    expect(r.status).toBe(400);
    expect(String(r.json['reason'])).toBe('MMS_ERR_FORM_LIMIT');
    r = await postForm(s, form(base, [{ name: 'big.bin', type: 'application/octet-stream', data: Buffer.alloc(100_000, 1) }]));
    expect(r.status).toBe(413);
    expect(r.json['error']).toBe('oversize');
    expect(s.sim.mm7Bodies).toHaveLength(0);
  });

  it('applies the MM7 flood limit and the VASP quota to forms', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'vq-')), 'limits');
    writeFileSync(file, 'VASP-F rate=1/h burst=2 over=reject\n');
    const s = await stack({ MM7_VASP_LIMITS: file });
    const got: number[] = [];
    for (let i = 0; i < 3; i++) got.push((await postForm(s, form(base, [{ name: 'a.txt', type: 'text/plain', data: Buffer.from(`m${i}`) }]))).status);
    expect(got).toEqual([200, 200, 403]);
    expect(s.sim.mm7Bodies).toHaveLength(2);
  });
});
