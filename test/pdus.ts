/** Test PDUs built with our encoder (fixtures of our own, no shared data). */
import { zipSync, gzipSync } from 'fflate';
import { encode, type MmsHeader, type PartInit } from 'wap-mms-decoder';
import { eicarBytes } from '@mmsguard/scan';

const te = new TextEncoder();

export function part(name: string, data: Uint8Array, mediaType = 'application/octet-stream'): PartInit {
  return { contentType: { mediaType, params: [{ name: 'name', value: name }] }, headers: [{ type: 'content-location', value: name }], data };
}

export function sendReq(parts: PartInit[], tid = 'T-e2e-1', msgType = 0x80): Uint8Array {
  const headers: MmsHeader[] = [
    { type: 'well-known', code: 0x0c, name: '', value: { kind: 'octet', value: msgType } },
    { type: 'well-known', code: 0x18, name: '', value: { kind: 'text', value: tid } },
    { type: 'well-known', code: 0x0d, name: '', value: { kind: 'octet', value: 0x92 } },
    { type: 'well-known', code: 0x09, name: '', value: { kind: 'from', address: null } },
    { type: 'well-known', code: 0x17, name: '', value: { kind: 'encoded-string', value: { text: '+4790000001/TYPE=PLMN', charset: null } } },
    { type: 'well-known', code: 0x16, name: '', value: { kind: 'encoded-string', value: { text: 'e2e', charset: 106 } } },
  ];
  return encode({ headers, contentType: { mediaType: 'application/vnd.wap.multipart.mixed', params: [] }, parts });
}

export const text = (s: string): PartInit => part('hello.txt', te.encode(s), 'text/plain');
export const eicar = (): PartInit => part('eicar.com', eicarBytes());
export const eicarZip = (): PartInit => part('gift.zip', zipSync({ 'inner/eicar.com': eicarBytes() }), 'application/zip');
export const eicarGzip = (): PartInit => part('eicar.com.gz', gzipSync(eicarBytes()), 'application/gzip');

export function peExe(): Uint8Array {
  const b = Buffer.alloc(512);
  b.write('MZ', 0, 'latin1');
  b.writeUInt32LE(0x80, 0x3c);
  b.write('PE\0\0', 0x80, 'latin1');
  b.writeUInt16LE(0x14c, 0x84);
  b.writeUInt16LE(0x0102, 0x80 + 22);
  return b;
}

export const retrieveConfOf = (send: Uint8Array): Uint8Array => {
  const b = Uint8Array.from(send);
  b[1] = 0x84;
  return b;
};

/** A PDU whose body is one opaque blob (no multipart): its content is a pseudo-part that cannot be replaced. */
export function singleBodyReq(data: Uint8Array, tid = 'T-e2e-1', msgType = 0x80): Uint8Array {
  const headers: MmsHeader[] = [
    { type: 'well-known', code: 0x0c, name: '', value: { kind: 'octet', value: msgType } },
    { type: 'well-known', code: 0x18, name: '', value: { kind: 'text', value: tid } },
    { type: 'well-known', code: 0x0d, name: '', value: { kind: 'octet', value: 0x92 } },
    { type: 'well-known', code: 0x09, name: '', value: { kind: 'from', address: null } },
    { type: 'well-known', code: 0x17, name: '', value: { kind: 'encoded-string', value: { text: '+4790000001/TYPE=PLMN', charset: null } } },
  ];
  return encode({ headers, contentType: { mediaType: 'application/octet-stream', params: [] }, body: data });
}

/** An m-send-req whose From names an address (no insert-address token): what a handset claims itself. */
export function sendReqFrom(parts: PartInit[], from: string, tid = 'T-e2e-1'): Uint8Array {
  const headers: MmsHeader[] = [
    { type: 'well-known', code: 0x0c, name: '', value: { kind: 'octet', value: 0x80 } },
    { type: 'well-known', code: 0x18, name: '', value: { kind: 'text', value: tid } },
    { type: 'well-known', code: 0x0d, name: '', value: { kind: 'octet', value: 0x92 } },
    { type: 'well-known', code: 0x09, name: '', value: { kind: 'from', address: { text: from, charset: null } } },
    { type: 'well-known', code: 0x17, name: '', value: { kind: 'encoded-string', value: { text: '+4790000002/TYPE=PLMN', charset: null } } },
  ];
  return encode({ headers, contentType: { mediaType: 'application/vnd.wap.multipart.mixed', params: [] }, parts });
}
