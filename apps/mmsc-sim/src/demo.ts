#!/usr/bin/env node
/**
 * `pnpm demo`: sends six messages through a running proxy (DEMO_PROXY_URL,
 * default http://127.0.0.1:8080) and prints one line per message with the
 * verdict read from the proxy's reply.
 */
import { zipSync } from 'fflate';
import { FIELD, decode, encode, encodedStrings, octetHeader, type MmsHeader, type PartInit } from 'wap-mms-decoder';

const PROXY = (process.env['DEMO_PROXY_URL'] ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
const te = new TextEncoder();
// The EICAR test string, assembled at run time so this file is not itself a test virus.
const EICAR = te.encode(['X5O!P%@AP[4\\PZX54(P^)7CC)7}$', 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'].join(''));

function part(name: string, data: Uint8Array, mediaType: string): PartInit {
  return {
    contentType: { mediaType, params: [{ name: 'name', value: name }] },
    headers: [{ type: 'content-location', value: name }], data,
  };
}

function sendReq(tid: string, parts: PartInit[]): Uint8Array {
  const headers: MmsHeader[] = [
    { type: 'well-known', code: FIELD.MESSAGE_TYPE, name: '', value: { kind: 'octet', value: 0x80 } },
    { type: 'well-known', code: FIELD.TRANSACTION_ID, name: '', value: { kind: 'text', value: tid } },
    { type: 'well-known', code: FIELD.MMS_VERSION, name: '', value: { kind: 'octet', value: 0x92 } },
    { type: 'well-known', code: FIELD.FROM, name: '', value: { kind: 'from', address: null } },
    {
      type: 'well-known', code: FIELD.TO, name: '',
      value: { kind: 'encoded-string', value: { text: '+4790000001/TYPE=PLMN', charset: null } },
    },
    {
      type: 'well-known', code: FIELD.SUBJECT, name: '',
      value: { kind: 'encoded-string', value: { text: `demo ${tid}`, charset: 106 } },
    },
  ];
  return encode({ headers, contentType: { mediaType: 'application/vnd.wap.multipart.mixed', params: [] }, parts });
}

function pe(): Uint8Array {
  const b = new Uint8Array(1024);
  b.set(te.encode('MZ'), 0);
  new DataView(b.buffer).setUint32(0x3c, 0x80, true);
  b.set(te.encode('PE\0\0'), 0x80);
  return b;
}

const hello = part('hello.txt', te.encode('Hello from the mmsguard demo'), 'text/plain');
const MESSAGES: [string, () => Uint8Array][] = [
  ['clean message', () => sendReq('demo-clean', [hello])],
  ['EICAR attachment', () => sendReq('demo-eicar', [hello, part('eicar.com', EICAR, 'application/octet-stream')])],
  ['EICAR inside a zip', () => sendReq('demo-zip', [
    hello, part('holiday.zip', zipSync({ 'photos/eicar.com': EICAR }), 'application/zip'),
  ])],
  ['executable (MZ/PE) named .jpg', () => sendReq('demo-exe', [part('photo.jpg', pe(), 'image/jpeg')])],
  ['oversized message (11 MiB)', () => sendReq('demo-big', [
    part('video.3gp', new Uint8Array(11 * 1024 * 1024), 'video/3gpp'),
  ])],
  ['malformed PDU', () => te.encode('this is not an MMS PDU')],
];

const STATUS: Record<number, string> = {
  0x80: 'Ok', 0xc0: 'Error-transient-failure', 0xc3: 'Error-transient-network-problem',
  0xe2: 'Error-permanent-message-format-corrupt', 0xe5: 'Error-permanent-content-not-accepted',
};

async function one(label: string, pdu: Uint8Array): Promise<string> {
  try {
    const res = await fetch(`${PROXY}/mms`, {
      method: 'POST', headers: { 'content-type': 'application/vnd.wap.mms-message' }, body: pdu,
    });
    const body = new Uint8Array(await res.arrayBuffer());
    if (res.status !== 200) return `HTTP ${res.status}`;
    const conf = decode(body);
    const st = octetHeader(conf, FIELD.RESPONSE_STATUS) ?? -1;
    const text = encodedStrings(conf, FIELD.RESPONSE_TEXT)[0]?.text;
    const verdict = st === 0x80 ? 'FORWARDED' : st === 0xe5 || st === 0xe2 ? 'BLOCKED' : 'REFUSED';
    return `${verdict.padEnd(9)} m-send-conf 0x${st.toString(16).toUpperCase()} ${STATUS[st] ?? ''}`
      + `${text !== undefined ? ` — ${text}` : ''}`;
  } catch (e) {
    return `ERROR ${(e as Error).message} (is the proxy running at ${PROXY}?)`;
  }
}

console.log(`mmsguard demo -> ${PROXY}`);
console.log(`${'message'.padEnd(32)} verdict`);
console.log(`${'-'.repeat(32)} ${'-'.repeat(60)}`);
let failures = 0;
for (const [label, build] of MESSAGES) {
  const line = await one(label, build());
  if (line.startsWith('ERROR')) failures++;
  console.log(`${label.padEnd(32)} ${line}`);
}
// The VASP form (POST /mm7/form on the MM7 port): a small content provider's submission, no SOAP.
const MM7 = (process.env['DEMO_MM7_URL'] ?? PROXY.replace(/:8080$/, ':8081')).replace(/\/+$/, '');
async function formLine(): Promise<string> {
  const f = new FormData();
  f.append('to', '+4790000001');
  f.append('from', '1234');
  f.append('subject', 'demo form');
  f.append('vasp_id', 'demo-vasp');
  f.append('file', new Blob([te.encode('Hello from a VASP form')], { type: 'text/plain' }), 'hello.txt');
  try {
    const res = await fetch(`${MM7}/mm7/form`, { method: 'POST', body: f });
    const j = (await res.json()) as { status_code?: number; message_id?: string | null };
    return `${res.status === 200 ? 'FORWARDED' : 'REFUSED  '} HTTP ${res.status} status_code ${j.status_code ?? '?'}`
      + `${j.message_id ? ` message_id ${j.message_id}` : ''}`;
  } catch (e) {
    // Not counted as a failure: the proxy may run without an MM7 listener.
    return `SKIPPED (no MM7 listener at ${MM7}: ${(e as Error).message})`;
  }
}
console.log(`${'VASP form (POST /mm7/form)'.padEnd(32)} ${await formLine()}`);
if (process.env['FILE_FILTER'] === undefined) {
  console.log('\n(the executable is blocked when the proxy runs with FILE_FILTER=exe,dll,...)');
}
process.exitCode = failures > 0 ? 1 : 0;
