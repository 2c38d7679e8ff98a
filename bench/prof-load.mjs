import autocannon from 'autocannon';
import { encode, textPart } from 'wap-mms-decoder';
const img = new Uint8Array(300 * 1024 - 600); for (let i = 0; i < img.length; i++) img[i] = (i * 2654435761) >>> 24;
const body = Buffer.from(encode({ headers: [{ type: 'well-known', code: 0x0c, name: '', value: { kind: 'octet', value: Number(process.env.MT ?? 0x80) } },{ type: 'well-known', code: 0x18, name: '', value: { kind: 'text', value: 'b' } },{ type: 'well-known', code: 0x0d, name: '', value: { kind: 'octet', value: 0x92 } }], contentType: { mediaType: 'application/vnd.wap.multipart.mixed', params: [] }, parts: [textPart('hello', 'a.txt'), { contentType: { mediaType: 'image/jpeg', params: [] }, headers: [], data: img }] }));
const r = await autocannon({ url: process.env.URL ?? 'http://127.0.0.1:18190/mms', method: 'POST', body, headers: { 'content-type': 'application/vnd.wap.mms-message' }, connections: Number(process.env.C ?? 10), duration: 8 });
console.log(r.requests.average, r.latency.p99);
