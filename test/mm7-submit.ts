/** A small MM7 SubmitReq (SOAP + multipart/related) built in the repo, for tests and benches that need no generator. */
const NS = 'http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/REL-6-MM7-1-4';

export interface Attachment {
  readonly name: string;
  readonly type: string;
  readonly data: Uint8Array;
}

export function submitReq(opts: { vaspId: string; tid?: string; to?: string; attachments: readonly Attachment[] }): { body: Buffer; contentType: string } {
  const tid = opts.tid ?? `T-${opts.vaspId}`;
  const soap = `<?xml version="1.0" encoding="UTF-8"?><env:Envelope xmlns:env="http://schemas.xmlsoap.org/soap/envelope/"><env:Header><mm7:TransactionID xmlns:mm7="${NS}" env:mustUnderstand="1">${tid}</mm7:TransactionID></env:Header><env:Body><SubmitReq xmlns="${NS}"><MM7Version>6.8.0</MM7Version><SenderIdentification><VASPID>${opts.vaspId}</VASPID><VASID>svc</VASID><SenderAddress><ShortCode>1234</ShortCode></SenderAddress></SenderIdentification><Recipients><To><Number>${opts.to ?? '+4790000000'}</Number></To></Recipients><Content href="cid:content@x"/></SubmitReq></env:Body></env:Envelope>`;
  const chunks: Buffer[] = [];
  const add = (s: string | Uint8Array): number => chunks.push(typeof s === 'string' ? Buffer.from(s, 'latin1') : Buffer.from(s));
  add(`--outer\r\nContent-Type: text/xml; charset="utf-8"\r\nContent-ID: <soap@x>\r\n\r\n${soap}\r\n`);
  add('--outer\r\nContent-Type: multipart/mixed; boundary="inner"\r\nContent-ID: <content@x>\r\n\r\n');
  opts.attachments.forEach((a, i) => {
    add(`--inner\r\nContent-Type: ${a.type}; name="${a.name}"\r\nContent-ID: <a${i}@x>\r\nContent-Transfer-Encoding: binary\r\n\r\n`);
    add(a.data);
    add('\r\n');
  });
  add('--inner--\r\n\r\n--outer--\r\n');
  return { body: Buffer.concat(chunks), contentType: 'multipart/related; type="text/xml"; boundary="outer"; start="<soap@x>"' };
}

export async function postMm7(base: string, m: { body: Uint8Array; contentType: string }): Promise<{ status: number; text: string }> {
  const res = await fetch(`${base}/mm7`, { method: 'POST', headers: { 'content-type': m.contentType, soapaction: '""' }, body: m.body });
  return { status: res.status, text: await res.text() };
}
