import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  FIELD, ResponseStatus, RetrieveStatus, buildRetrieveConfError, buildSendConf, buildTextSendReq, decode,
  encodedStrings, wellKnown, octetHeader, partInfo, reencodeWithParts, textHeader, textPart,
} from '../src/index.js';
import { CORPUS_MMS, HAVE_SHARED } from './shared.js';

describe('replies the proxy sends', () => {
  it('builds an m-send-conf with the request transaction id, version, status and text', () => {
    const pdu = decode(buildSendConf({
      transactionId: 'T-1', version: 0x93, status: ResponseStatus.ERROR_PERMANENT_CONTENT_NOT_ACCEPTED,
      text: 'Virus found: Eicar-Test-Signature',
    }));
    expect(pdu.messageType).toBe(0x81);
    expect(textHeader(pdu, FIELD.TRANSACTION_ID)).toBe('T-1');
    expect(octetHeader(pdu, FIELD.MMS_VERSION)).toBe(0x93);
    expect(octetHeader(pdu, FIELD.RESPONSE_STATUS)).toBe(0xe5);
    expect(encodedStrings(pdu, FIELD.RESPONSE_TEXT))
      .toEqual([{ text: 'Virus found: Eicar-Test-Signature', charset: 106 }]);
    expect(pdu.issues).toEqual([]);
  });

  it('builds a one-part text m-send-req (the notice to a blocked sender), From as insert-address or given', () => {
    const b = buildTextSendReq({
      transactionId: 'N-1', from: null, to: '+4790000001/TYPE=PLMN', subject: 'Message not delivered',
      text: 'Your message … was not delivered', date: 1_700_000_000,
    });
    const pdu = decode(b);
    expect(pdu.messageType).toBe(0x80);
    expect([...b.subarray(0, 2)]).toEqual([0x8c, 0x80]);
    expect(textHeader(pdu, FIELD.TRANSACTION_ID)).toBe('N-1');
    expect(wellKnown(pdu, FIELD.FROM)).toMatchObject({ kind: 'from', address: null });
    expect(encodedStrings(pdu, FIELD.TO).map((a) => a.text)).toEqual(['+4790000001/TYPE=PLMN']);
    expect(encodedStrings(pdu, FIELD.SUBJECT)[0]?.text).toBe('Message not delivered');
    expect(pdu.parts?.map((p) => [p.contentType.mediaType, new TextDecoder().decode(p.data)]))
      .toEqual([['text/plain', 'Your message … was not delivered']]);
    expect(pdu.issues).toEqual([]);
    const from = decode(buildTextSendReq({
      transactionId: 'N-2', from: '+4700000000/TYPE=PLMN', to: 'a@b.c', subject: 's', text: 't', date: 0,
    }));
    expect(wellKnown(from, FIELD.FROM)).toMatchObject({ kind: 'from', address: { text: '+4700000000/TYPE=PLMN' } });
  });

  it('puts the three mandatory headers first, in order', () => {
    const b = buildSendConf({ transactionId: 'x', status: 0xc0 });
    expect([...b.subarray(0, 2)]).toEqual([0x8c, 0x81]);
    expect(b[2]).toBe(0x98);
    expect([...b.subarray(b.indexOf(0x8d), b.indexOf(0x8d) + 2)]).toEqual([0x8d, 0x92]);
  });

  it('builds an m-retrieve-conf with an error Retrieve-Status, Retrieve-Text and a text part', () => {
    const pdu = decode(buildRetrieveConfError({ transactionId: 'R1', text: 'Content removed', date: 1700000000 }));
    expect(pdu.messageType).toBe(0x84);
    expect(octetHeader(pdu, FIELD.RETRIEVE_STATUS)).toBe(RetrieveStatus.ERROR_PERMANENT_CONTENT_UNSUPPORTED);
    expect(encodedStrings(pdu, FIELD.RETRIEVE_TEXT)[0]?.text).toBe('Content removed');
    expect(pdu.parts?.length).toBe(1);
    expect(Buffer.from(pdu.parts?.[0]?.data ?? []).toString()).toBe('Content removed');
  });
});

describe.skipIf(!HAVE_SHARED)('re-encoding with parts replaced', () => {
  const multiparts = HAVE_SHARED
    ? readdirSync(CORPUS_MMS)
        .filter((f) => f.endsWith('.mms'))
        .map((f) => ({ f, b: new Uint8Array(readFileSync(join(CORPUS_MMS, f))) }))
        .filter(({ b }) => {
          try {
            const p = decode(b);
            return p.parts !== null && p.issues.length === 0;
          } catch {
            return false;
          }
        })
    : [];

  it('gives back the original octets when nothing is replaced', () => {
    expect(multiparts.length).toBeGreaterThan(40);
    for (const { f, b } of multiparts) {
      expect(Buffer.from(reencodeWithParts(decode(b), () => undefined)).equals(Buffer.from(b)), f).toBe(true);
    }
  });

  it('replaces one part and keeps every other part and header byte-identical', () => {
    for (const { f, b } of multiparts) {
      const pdu = decode(b);
      const out = decode(reencodeWithParts(pdu, (_p, path) =>
        (path.length === 1 && path[0] === 0 ? textPart('removed', 'removed.txt') : undefined)));
      expect(out.headers.length, f).toBe(pdu.headers.length);
      expect(Buffer.from(out.rawHead).equals(Buffer.from(pdu.rawHead)), f).toBe(true);
      expect(out.parts?.length, f).toBe(pdu.parts?.length);
      expect(partInfo(out.parts?.[0] ?? pdu.parts![0]!).name, f).toBe('removed.txt');
      for (let i = 1; i < (pdu.parts?.length ?? 0); i++) {
        expect(Buffer.from(out.parts![i]!.data).equals(Buffer.from(pdu.parts![i]!.data)), `${f} part ${i}`).toBe(true);
        const same = Buffer.from(out.parts![i]!.rawHeaders!).equals(Buffer.from(pdu.parts![i]!.rawHeaders!));
        expect(same, `${f} part ${i}`).toBe(true);
      }
    }
  });
});
