/**
 * The message id in the records (docs/logs.md `messageid`, the verdict lookup's `message_id`): the MMSC's id of
 * the message, read from wherever the protocol carries it. A send's comes in the MMSC's answer (m-send-conf,
 * SubmitRsp); a download names its own (m-retrieve-conf); an MM7 request about a message names it (MessageID,
 * or a DeliverReq's LinkedID). Null only where no id exists: a send the proxy refused never reached the MMSC.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FIELD, decode, textHeader } from 'wap-mms-decoder';
import { get, post, startStack, verdicts, type Stack } from './harness.js';
import { eicar, sendReq, text } from './pdus.js';
import { postMm7, submitReq } from './mm7-submit.js';

let stack: Stack | null = null;
afterEach(async () => {
  await stack?.close();
  stack = null;
});

const NS = 'http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/REL-6-MM7-1-4';

/** A text/xml MM7 request from the MMSC (no content part): DeliverReq, DeliveryReportReq … */
function mmscRequest(op: string, tid: string, inner: string): { body: Buffer; contentType: string } {
  const xml = '<?xml version="1.0"?><env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/"><env:Header>'
    + `<mm7:TransactionID xmlns:mm7="${NS}">${tid}</mm7:TransactionID></env:Header><env:Body>`
    + `<${op} xmlns="${NS}"><MM7Version>6.8.0</MM7Version>${inner}</${op}></env:Body></env:Envelope>`;
  return { body: Buffer.from(xml), contentType: 'text/xml; charset="utf-8"' };
}

async function lookup(s: Stack, tid: string): Promise<Record<string, unknown> | undefined> {
  const res = await fetch(`${s.admin}/verdicts/${encodeURIComponent(tid)}`);
  return ((await res.json()) as { verdicts?: Record<string, unknown>[] }).verdicts?.[0];
}

const utm = (s: Stack): Record<string, unknown>[] => s.logs.filter((l) => l['type'] === 'utm');

describe('messageid in the records', () => {
  it('MM1 send: the Message-ID of the MMSC\'s m-send-conf, in the verdict record and the verdict lookup', async () => {
    stack = await startStack();
    const r = await post(stack.proxy, sendReq([text('hi')], 'T-mid-1'));
    const id = textHeader(decode(r.body), FIELD.MESSAGE_ID);
    expect(id).toMatch(/^sim-/);
    const [v] = await verdicts(stack, 1);
    expect(v).toMatchObject({ action: 'forwarded', transactionid: 'T-mid-1', messageid: id });
    expect(await lookup(stack, 'T-mid-1')).toMatchObject({ message_id: id });
  });

  it('MM1 send in monitor mode: the UTM record of a forwarded finding names the MMSC\'s id too', async () => {
    stack = await startStack({ MM1_SCAN_MODE: 'monitor' });
    const r = await post(stack.proxy, sendReq([eicar()], 'T-mid-2'));
    const id = textHeader(decode(r.body), FIELD.MESSAGE_ID);
    expect(id).toMatch(/^sim-/);
    const [v] = await verdicts(stack, 1);
    expect(v).toMatchObject({ action: 'monitored', messageid: id });
    expect(utm(stack)).toEqual([expect.objectContaining({ subtype: 'virus', action: 'monitored', messageid: id })]);
  });

  it('MM1 send refused by the proxy: no MMSC ever named it, the id is null (and the key is there)', async () => {
    stack = await startStack();
    await post(stack.proxy, sendReq([eicar()], 'T-mid-3'));
    const [v] = await verdicts(stack, 1);
    expect(v).toMatchObject({ action: 'blocked', messageid: null });
    expect(utm(stack)[0]).toHaveProperty('messageid', null);
  });

  it('MM1 send hidden (BULK_BLOCK_REPLY=hide): the id the handset was told', async () => {
    stack = await startStack({
      TRUSTED_GATEWAYS: '127.0.0.1', FLOOD_THRESHOLDS: '1/60:block:60', BULK_BLOCK_REPLY: 'hide',
    });
    const msisdn = { 'x-wap-network-client-msisdn': '+4790000042' };
    await post(stack.proxy, sendReq([text('one')], 'T-mid-4a'), msisdn);
    const r = await post(stack.proxy, sendReq([text('two')], 'T-mid-4b'), msisdn);
    const id = textHeader(decode(r.body), FIELD.MESSAGE_ID);
    expect(id).toMatch(/^mmsguard-/);
    const v = await verdicts(stack, 2);
    expect(v[1]).toMatchObject({ transactionid: 'T-mid-4b', messageid: id });
    expect(stack.sim.received).toHaveLength(1);
  });

  it('MM1 retrieve: the m-retrieve-conf\'s Message-ID, also for a retry answered from the verdict cache', async () => {
    stack = await startStack();
    // The simulator keeps each message as an m-retrieve-conf carrying the id its m-send-conf gave.
    const sent = await post(stack.proxy, sendReq([text('fetch me')], 'T-mid-5'));
    const id = textHeader(decode(sent.body), FIELD.MESSAGE_ID) ?? '';
    // An infected one goes to the simulator directly (the proxy would refuse it), then is downloaded twice.
    const direct = await post(stack.simUrl, sendReq([eicar()], 'T-mid-6'));
    const badId = textHeader(decode(direct.body), FIELD.MESSAGE_ID) ?? '';
    expect(badId).toMatch(/^sim-/);
    await get(stack.proxy, `/mms/${id}`);
    await get(stack.proxy, `/mms/${badId}`);
    await get(stack.proxy, `/mms/${badId}`);
    const downloads = (await verdicts(stack, 4)).filter((l) => l['direction'] === 'incoming');
    expect(downloads.map((l) => [l['action'], l['messageid']])).toEqual([
      ['forwarded', id], ['blocked', badId], ['blocked', badId],
    ]);
    expect(String(downloads[2]?.['reason'])).toMatch(/^cached verdict/);
  });

  it('MM7 SubmitReq: the MessageID of the MMSC\'s SubmitRsp', async () => {
    stack = await startStack();
    const r = await postMm7(stack.mm7, submitReq({ vaspId: 'V', tid: 'T-mid-8', attachments: [] }));
    const id = /<MessageID>([^<]+)<\/MessageID>/.exec(r.text)?.[1];
    expect(id).toMatch(/^sim-mm7-/);
    const [v] = await verdicts(stack, 1);
    expect(v).toMatchObject({ msgtype: 'SubmitReq', action: 'forwarded', messageid: id });
    expect(await lookup(stack, 'T-mid-8')).toMatchObject({ message_id: id });
  });

  it('MM7: a DeliverReq names its LinkedID, a DeliveryReportReq its MessageID, an empty element nothing', async () => {
    stack = await startStack();
    const sender = '<Sender><Number>+4790000009</Number></Sender>';
    await postMm7(stack.mm7, mmscRequest('DeliverReq', 'T-mid-9', `<LinkedID>mmsc-77</LinkedID>${sender}`));
    await postMm7(stack.mm7, mmscRequest('DeliveryReportReq', 'T-mid-10', `<MessageID>mmsc-78</MessageID>${sender}`));
    await postMm7(stack.mm7, mmscRequest('DeliverReq', 'T-mid-11', `<LinkedID/>${sender}`));
    const v = await verdicts(stack, 3);
    expect(v.map((l) => [l['transactionid'], l['direction'], l['messageid']])).toEqual([
      ['T-mid-9', 'incoming', 'mmsc-77'], ['T-mid-10', 'incoming', 'mmsc-78'], ['T-mid-11', 'incoming', null],
    ]);
  });

  it('VASP form: the MessageID the MMSC answered, as the caller got it', async () => {
    stack = await startStack();
    const f = new FormData();
    f.append('to', '+4790000001');
    f.append('vasp_id', 'VF');
    f.append('file', new Blob([Buffer.from('hello')], { type: 'text/plain' }), 'a.txt');
    const res = await fetch(`${stack.mm7}/mm7/form`, { method: 'POST', body: f });
    const json = (await res.json()) as { message_id: string };
    expect(json.message_id).toMatch(/^sim-mm7-/);
    const [v] = await verdicts(stack, 1);
    expect(v).toMatchObject({ msgtype: 'SubmitReq', messageid: json.message_id });
  });
});
