/**
 * Proof of issue 13: every path a message can take through the proxy × every
 * outcome, asserting the reply, what reached the upstream (or the handset),
 * the verdict record, that every UTM record's action agrees with it, and the
 * echoed Transaction-ID. One fresh stack per cell (the verdict cache and the
 * flood counters must not leak between cells). Comforted paths run with a
 * 5 s interval, so no comfort byte goes out and the outcome is the same as on
 * the plain path: what differs is the transfer underneath (comfort.test.ts
 * covers comforting that has started).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { FIELD, decode, octetHeader, textHeader } from 'wap-mms-decoder';
import { eicarBytes } from '@mmsguard/scan';
import { get, post, startStack, verdicts, type Stack } from './harness.js';
import { eicar, part, sendReq, singleBodyReq, text } from './pdus.js';
import { postMm7, submitReq } from './mm7-submit.js';

const TID = 'T-matrix';
const SENDER = '+4790000099';
const dir = mkdtempSync(join(tmpdir(), 'matrix-'));
const LIST = join(dir, 'block.list');
writeFileSync(LIST, `block simple ${SENDER}\nblock simple +4790000000\n`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let stack: Stack | null = null;
afterEach(async () => {
  await stack?.close();
  stack = null;
});

const PATHS = ['send', 'comforted-send', 'retrieve', 'comforted-retrieve', 'mm7', 'comforted-mm7'] as const;
type Path = (typeof PATHS)[number];
const CASES = [
  'clean', 'virus', 'virus-remove', 'rewrite-impossible', 'malformed', 'oversize-block', 'oversize-pass',
  'scan-error-block', 'scan-error-pass', 'list-block', 'flood-block',
] as const;
type Case = (typeof CASES)[number];

/** Combinations that mean nothing, and why. */
const MEANINGLESS: Partial<Record<`${Path}:${Case}`, string>> = {};
for (const p of ['retrieve', 'comforted-retrieve'] as const) {
  MEANINGLESS[`${p}:list-block`] = 'MSISDN lists apply to what is sent (m-send-req, MM7 requests), not to a download';
  MEANINGLESS[`${p}:flood-block`] = 'flood and duplicate counting applies to sends: a download is no new message';
}

const PATH_ENV: Record<Path, Record<string, string>> = {
  send: {},
  'comforted-send': { MM1_SERVER_COMFORT: 'on', MM1_COMFORT_INTERVAL: '5' },
  retrieve: {},
  'comforted-retrieve': { MM1_CLIENT_COMFORT: 'on', MM1_COMFORT_INTERVAL: '5' },
  mm7: {},
  'comforted-mm7': { MM7_SERVER_COMFORT: 'on', MM7_COMFORT_INTERVAL: '5' },
};

function caseEnv(c: Case, mm7: boolean): Record<string, string> {
  const p = mm7 ? 'MM7' : 'MM1';
  const clamdDown = { SCAN_ENGINES: 'clamd', CLAMD_ADDRESS: 'unix:/nonexistent/clamd.sock' };
  switch (c) {
    case 'virus-remove':
    case 'rewrite-impossible':
      return { REMOVE_BLOCKED: 'on' };
    case 'oversize-block':
      return { [`${p}_OVERSIZE_LIMIT`]: '10KB' };
    case 'oversize-pass':
      return { [`${p}_OVERSIZE_LIMIT`]: '10KB', [`${p}_OVERSIZE_ACTION`]: 'pass' };
    case 'scan-error-block':
      return clamdDown;
    case 'scan-error-pass':
      return { ...clamdDown, SCAN_ERROR_ACTION: 'pass' };
    case 'list-block':
      return { MSISDN_LIST: LIST };
    case 'flood-block':
      return mm7 ? { MM7_FLOOD_THRESHOLDS: '1/60:block:60' } : { FLOOD_THRESHOLDS: '1/60:block:60' };
    default:
      return {};
  }
}

const big = (): Uint8Array => new Uint8Array(50_000).fill(0x41);

function mm1Message(c: Case): Uint8Array {
  switch (c) {
    case 'virus':
    case 'virus-remove':
      return sendReq([text('keep me'), eicar()], TID);
    case 'rewrite-impossible':
      return singleBodyReq(eicarBytes(), TID);
    case 'malformed':
      return new TextEncoder().encode('This is not an MMS PDU at all');
    case 'oversize-block':
    case 'oversize-pass':
      // EICAR behind the limit: passed unscanned, it proves nothing was scanned.
      return sendReq([part('big.bin', big()), eicar()], TID);
    default:
      return sendReq([text(`hello ${c}`)], TID);
  }
}

function mm7Message(c: Case): { body: Buffer; contentType: string } {
  const att = (name: string, data: Uint8Array, type = 'application/octet-stream'): { name: string; type: string; data: Uint8Array } => ({ name, type, data });
  switch (c) {
    case 'virus':
    case 'virus-remove':
      return submitReq({ vaspId: 'V', tid: TID, attachments: [att('a.txt', Buffer.from('keep me'), 'text/plain'), att('eicar.com', eicarBytes())] });
    case 'rewrite-impossible': {
      // EICAR in the preamble: bytes no part owns are scanned, but there is no part to replace.
      const m = submitReq({ vaspId: 'V', tid: TID, attachments: [att('a.txt', Buffer.from('hi'), 'text/plain')] });
      return { ...m, body: Buffer.concat([Buffer.from(eicarBytes()), Buffer.from('\r\n'), m.body]) };
    }
    case 'malformed':
      return { body: Buffer.from('no delimiter in here at all'), contentType: 'multipart/related; boundary="outer"; type="text/xml"' };
    case 'oversize-block':
    case 'oversize-pass':
      return submitReq({ vaspId: 'V', tid: TID, attachments: [att('big.bin', big()), att('eicar.com', eicarBytes())] });
    default:
      return submitReq({ vaspId: 'V', tid: TID, attachments: [att('a.txt', Buffer.from(`hello ${c}`), 'text/plain')] });
  }
}

interface Expected {
  /** verdict record action and subtype */
  readonly action: string;
  readonly subtype: string | null;
  /** m-send-conf X-Mms-Response-Status (from the simulator when forwarded) */
  readonly send: number;
  /** what the handset gets on a retrieve: the original, the rewritten message, an error PDU status, or HTTP 502 */
  readonly retrieve: 'original' | 'rewritten' | number;
  /** MM7 StatusCode in the answer (1000: the simulator's Rsp) */
  readonly mm7: number;
  /** what reached the upstream */
  readonly upstream: 'original' | 'rewritten' | 'none';
  /** the message's Transaction-ID can be read (and so must be echoed) */
  readonly tid: boolean;
}

const EXPECT: Record<Case, Expected> = {
  clean: { action: 'forwarded', subtype: null, send: 0x80, retrieve: 'original', mm7: 1000, upstream: 'original', tid: true },
  virus: { action: 'blocked', subtype: 'virus', send: 0xe5, retrieve: 0xe3, mm7: 2004, upstream: 'none', tid: true },
  'virus-remove': { action: 'attachment-removed', subtype: 'virus', send: 0x80, retrieve: 'rewritten', mm7: 1000, upstream: 'rewritten', tid: true },
  'rewrite-impossible': { action: 'blocked', subtype: 'virus', send: 0xe5, retrieve: 0xe3, mm7: 2004, upstream: 'none', tid: true },
  malformed: { action: 'blocked', subtype: 'malformed', send: 0xe2, retrieve: 502, mm7: 2007, upstream: 'none', tid: false },
  'oversize-block': { action: 'blocked', subtype: 'oversize', send: 0xe5, retrieve: 0xe3, mm7: 2004, upstream: 'none', tid: true },
  'oversize-pass': { action: 'passthrough', subtype: 'oversize', send: 0x80, retrieve: 'original', mm7: 1000, upstream: 'original', tid: true },
  'scan-error-block': { action: 'blocked', subtype: 'scan-error', send: 0xc0, retrieve: 0xc0, mm7: 4006, upstream: 'none', tid: true },
  'scan-error-pass': { action: 'forwarded', subtype: null, send: 0x80, retrieve: 'original', mm7: 1000, upstream: 'original', tid: true },
  'list-block': { action: 'blocked', subtype: 'msisdn-filter', send: 0xe1, retrieve: 0xe1, mm7: 4007, upstream: 'none', tid: true },
  'flood-block': { action: 'blocked', subtype: 'flood', send: 0xe1, retrieve: 0xe1, mm7: 4007, upstream: 'none', tid: true },
};

/** The UTM actions a verdict allows: what caused it says the verdict's word; `monitored` never contradicts. */
const AGREES: Record<string, readonly string[]> = {
  forwarded: ['monitored'],
  blocked: ['blocked', 'monitored'],
  'attachment-removed': ['attachment-removed', 'monitored'],
  passthrough: ['passthrough', 'monitored'],
};

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const hasEicar = (b: Uint8Array): boolean => Buffer.from(b).includes(Buffer.from(eicarBytes()));

async function records(s: Stack, n: number): Promise<{ verdict: Record<string, unknown>; utm: Record<string, unknown>[] }> {
  const vs = await verdicts(s, n);
  const verdict = vs.at(-1) ?? {};
  const utm = s.logs.filter((l) => l['type'] === 'utm' && l['sessionid'] === verdict['sessionid']);
  return { verdict, utm };
}

function checkRecords(e: Expected, r: { verdict: Record<string, unknown>; utm: Record<string, unknown>[] }, c: Case): void {
  expect(r.verdict).toMatchObject({ action: e.action, subtype: e.subtype });
  if (e.tid) expect(r.verdict['transactionid']).toBe(TID);
  const allowed = AGREES[e.action] ?? [];
  for (const u of r.utm) expect(allowed, `UTM ${String(u['subtype'])} ${String(u['action'])}`).toContain(u['action']);
  // What caused the outcome is on record with the verdict's own word.
  if (e.subtype !== null) expect(r.utm.some((u) => u['subtype'] === e.subtype && u['action'] !== 'monitored')).toBe(true);
  if (c === 'scan-error-pass') expect(r.utm.some((u) => u['subtype'] === 'scan-error' && u['action'] === 'monitored')).toBe(true);
}

async function runMm1Send(s: Stack, c: Case): Promise<void> {
  const e = EXPECT[c];
  const msisdn = { 'x-wap-network-client-msisdn': SENDER };
  if (c === 'flood-block') await post(s.proxy, sendReq([text('warm-up')], 'T-warm'), msisdn);
  const before = s.sim.received.length;
  const pdu = mm1Message(c);
  const r = await post(s.proxy, pdu, msisdn);
  expect(r.status).toBe(200);
  const conf = decode(r.body);
  expect(conf.messageType).toBe(0x81);
  expect(octetHeader(conf, FIELD.RESPONSE_STATUS)).toBe(e.send);
  if (e.tid) expect(textHeader(conf, FIELD.TRANSACTION_ID)).toBe(TID);
  const got = s.sim.received.slice(before);
  if (e.upstream === 'none') expect(got).toHaveLength(0);
  else {
    expect(got).toHaveLength(1);
    const stored = [...s.sim.messages.values()].at(-1) ?? new Uint8Array(0);
    if (e.upstream === 'original') expect(got[0]).toMatchObject({ length: pdu.length, sha256: sha(pdu) });
    else expect(hasEicar(stored)).toBe(false);
  }
  const rec = await records(s, c === 'flood-block' ? 2 : 1);
  checkRecords(e, rec, c);
  if (c === 'oversize-pass') expect(rec.verdict).toMatchObject({ from: SENDER, to: '+4790000001/TYPE=PLMN' });
}

async function runMm1Retrieve(s: Stack, c: Case): Promise<void> {
  const e = EXPECT[c];
  const raw = mm1Message(c);
  const pdu = c === 'malformed' ? raw : Uint8Array.from(raw, (b, i) => (i === 1 ? 0x84 : b));
  await fetch(`${s.simUrl}/_sim/messages/m`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: pdu });
  const r = await get(s.proxy, '/mms/m');
  expect(s.sim.received.filter((x) => x.method === 'GET')).toHaveLength(1);
  if (e.retrieve === 502) expect(r.status).toBe(502);
  else if (e.retrieve === 'original') expect(sha(r.body)).toBe(sha(pdu));
  else {
    expect(r.status).toBe(200);
    const got = decode(r.body);
    expect(got.messageType).toBe(0x84);
    if (e.tid) expect(textHeader(got, FIELD.TRANSACTION_ID)).toBe(TID);
    if (e.retrieve === 'rewritten') {
      expect(octetHeader(got, FIELD.RETRIEVE_STATUS)).toBeNull();
      expect(hasEicar(r.body)).toBe(false);
    } else expect(octetHeader(got, FIELD.RETRIEVE_STATUS)).toBe(e.retrieve);
  }
  checkRecords(e, await records(s, 1), c);
}

async function runMm7(s: Stack, c: Case): Promise<void> {
  const e = EXPECT[c];
  if (c === 'flood-block') await postMm7(s.mm7, submitReq({ vaspId: 'V', tid: 'T-warm', attachments: [{ name: 'w.txt', type: 'text/plain', data: Buffer.from('warm-up') }] }));
  const before = s.sim.mm7Bodies.length;
  const m = mm7Message(c);
  const r = await postMm7(s.mm7, m);
  expect(r.status).toBe(e.mm7 === 1000 ? 200 : 500);
  expect(r.text).toContain(`<StatusCode>${e.mm7}</StatusCode>`);
  if (e.tid) expect(r.text).toContain(`>${TID}</`);
  const got = s.sim.mm7Bodies.slice(before);
  if (e.upstream === 'none') expect(got).toHaveLength(0);
  else {
    expect(got).toHaveLength(1);
    if (e.upstream === 'original') expect(sha(got[0]!)).toBe(sha(m.body));
    else expect(hasEicar(got[0]!)).toBe(false);
  }
  const rec = await records(s, c === 'flood-block' ? 2 : 1);
  checkRecords(e, rec, c);
  // Read from the SOAP part at the head of the body (peekEnvelope): who sent it to whom.
  if (c === 'oversize-pass' || c === 'oversize-block') {
    expect(rec.verdict).toMatchObject({ transactionid: TID, msgtype: 'SubmitReq', from: '1234', to: '+4790000000' });
    expect(rec.utm[0]).toMatchObject({ from: '1234', to: '+4790000000' });
  }
}

describe('pipeline matrix: every path × every outcome', () => {
  for (const path of PATHS) {
    describe(path, () => {
      for (const c of CASES) {
        const why = MEANINGLESS[`${path}:${c}`];
        if (why !== undefined) {
          it.skip(`${c}: meaningless — ${why}`, () => undefined);
          continue;
        }
        it(`${c}: ${EXPECT[c].action}${EXPECT[c].subtype !== null ? ` (${EXPECT[c].subtype})` : ''}`, async () => {
          const mm7 = path === 'mm7' || path === 'comforted-mm7';
          stack = await startStack({ TRUSTED_GATEWAYS: '127.0.0.1', ...PATH_ENV[path], ...caseEnv(c, mm7) });
          if (mm7) await runMm7(stack, c);
          else if (path === 'send' || path === 'comforted-send') await runMm1Send(stack, c);
          else await runMm1Retrieve(stack, c);
        });
      }
    });
  }
});

describe('divergences of the five handlers, fixed by construction', () => {
  it('refuses a retry of refused content at once, by SHA-256, on plain MM1 sends and on MM7', async () => {
    stack = await startStack();
    const pdu = sendReq([eicar()], TID);
    await post(stack.proxy, pdu);
    const again = decode((await post(stack.proxy, pdu)).body);
    expect(octetHeader(again, FIELD.RESPONSE_STATUS)).toBe(0xe5);
    expect(textHeader(again, FIELD.TRANSACTION_ID)).toBe(TID);
    const m = mm7Message('virus');
    await postMm7(stack.mm7, m);
    const r = await postMm7(stack.mm7, m);
    expect(r.text).toContain('<StatusCode>2004</StatusCode>');
    expect(r.text).toContain(`>${TID}</`);
    const vs = await verdicts(stack, 4);
    expect(vs.map((v) => [v['service'], v['action'], String(v['reason']).startsWith('cached verdict')])).toEqual([
      ['MM1', 'blocked', false], ['MM1', 'blocked', true], ['MM7', 'blocked', false], ['MM7', 'blocked', true],
    ]);
    expect(stack.sim.received).toHaveLength(0);
  });

  it('numbers sessions with one counter for MM1 and MM7', async () => {
    stack = await startStack();
    await post(stack.proxy, sendReq([text('a')]));
    await postMm7(stack.mm7, mm7Message('clean'));
    await post(stack.proxy, sendReq([text('b')]));
    const ids = (await verdicts(stack, 3)).map((v) => v['sessionid']);
    expect(new Set(ids).size).toBe(3);
  });

  it('reads the trusted MSISDN header once per message (one bad-msisdn-header record, not one per use)', async () => {
    stack = await startStack({ TRUSTED_GATEWAYS: '127.0.0.1', MSISDN_HEADER_ENCODING: 'hex', FLOOD_THRESHOLDS: '5/60:log' });
    await post(stack.proxy, sendReq([text('a')]), { 'x-wap-network-client-msisdn': 'not hex' });
    await verdicts(stack, 1);
    expect(stack.logs.filter((l) => l['event'] === 'bad-msisdn-header')).toHaveLength(1);
  });

  it('pseudonymises the MSISDN-list record (msg) with MSISDN_HASH_KEY, like every address (issue 14 class 15)', async () => {
    stack = await startStack({ TRUSTED_GATEWAYS: '127.0.0.1', MSISDN_HASH_KEY: 'k', MSISDN_LIST: LIST });
    const r = await post(stack.proxy, sendReq([text('x')], TID), { 'x-wap-network-client-msisdn': SENDER });
    expect(octetHeader(decode(r.body), FIELD.RESPONSE_STATUS)).toBe(0xe1);
    await verdicts(stack, 1);
    expect(stack.logs.find((l) => l['subtype'] === 'msisdn-filter' && l['type'] === 'utm')?.['msg']).toMatch(/simple h:[0-9a-f]{16}/);
    expect(JSON.stringify(stack.logs)).not.toContain(SENDER.slice(1));
  });

  it('applies REQUEST_TIMEOUT and the keep-alive timeout on the node server itself (fastify ignores them with a serverFactory)', async () => {
    const { connect } = await import('node:net');
    stack = await startStack({ REQUEST_TIMEOUT: '1', HEADERS_TIMEOUT: '1' });
    expect(stack.proxyApp.mm1.server.keepAliveTimeout).toBe(72_000);
    expect(stack.proxyApp.mm1.server.requestTimeout).toBe(1000);
    const { port } = new URL(stack.proxy);
    const t0 = Date.now();
    const answer = await new Promise<string>((resolve) => {
      const sock = connect(Number(port), '127.0.0.1');
      let got = '';
      sock.on('data', (d) => (got += d.toString('latin1')));
      sock.on('close', () => resolve(got));
      sock.on('error', () => undefined);
      // Headers complete, then a body that never comes: only the request timeout can end this.
      sock.write('POST /mms HTTP/1.1\r\nHost: x\r\nContent-Type: application/vnd.wap.mms-message\r\nContent-Length: 1000\r\n\r\nabc');
      setTimeout(() => sock.destroy(), 8000);
    });
    expect(Date.now() - t0).toBeLessThan(4000);
    expect(answer === '' || answer.startsWith('HTTP/1.1 408')).toBe(true);
  });
});
