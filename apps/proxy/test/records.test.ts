/** The UTM record's fields from a finding (records.ts): dtype names the engine that saw an infection. */
import { describe, expect, it } from 'vitest';
import type { Finding } from '@mmsguard/scan';
import { NO_PART, utmRecord, type Session } from '../src/records.js';

const session: Session = {
  service: 'MM1', direction: 'outgoing', sessionid: 1, srcip: '127.0.0.1', srcport: 1, dstip: '127.0.0.1',
  dstport: 2, msgtype: 'm-send-req', transactionid: 'T', messageid: null, from: null, to: null,
};
const infected = (engine: string): Finding => ({ kind: 'infected', path: '1', engine, name: 'Eicar-Test-Signature' });

describe('utmRecord', () => {
  it('names the AV engine in dtype: built-in, clamd, ICAP', () => {
    const dtype = (engine: string): unknown =>
      utmRecord(session, 'virus', 'blocked', NO_PART, infected(engine))['dtype'];
    expect(['builtin', 'clamd', 'icap'].map(dtype)).toEqual(['av-engine', 'av-engine-clamd', 'av-engine-icap']);
    // An engine name is never read as an object key (toString is no engine of ours).
    expect(dtype('toString')).toBe('av-engine');
  });

  it('gives a scan error the engine name as dtype', () => {
    const f: Finding = { kind: 'error', path: '1', engine: 'icap', code: 'MMS_ERR_ICAP_TIMEOUT', message: 'x' };
    expect(utmRecord(session, 'scan-error', 'blocked', NO_PART, f)).toMatchObject({ dtype: 'icap', virus: null });
  });
});
