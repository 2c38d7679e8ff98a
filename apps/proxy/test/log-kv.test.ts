import { Writable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createLogger, kvDestination, kvQuote, parseKvLine, toKv } from '../src/log.js';

function collector(): { out: Writable; text: () => string } {
  let text = '';
  const out = new Writable({
    write(chunk: Buffer, _enc, cb): void {
      text += chunk.toString('utf8');
      cb();
    },
  });
  return { out, text: () => text };
}

const flush = (): Promise<void> => new Promise((r) => setImmediate(r));
// Everything a line reader, terminal or syslog relay could take as a line break or a command.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/; // eslint-disable-line no-control-regex

describe('LOG_FORMAT=kv', () => {
  it('keeps a record with a CRLF-bearing attachment name on one line, and the name round-trips', async () => {
    const { out, text } = collector();
    const log = createLogger('info', 'kv', out);
    const filename = 'invoice.jpg\r\ndate=2026-01-01 time=00:00:00 type="utm" action="passthrough" msg="clean"';
    log.info({ type: 'utm', subtype: 'virus', action: 'blocked', filename, filesize: 68 }, 'EICAR found');
    await flush();
    const written = text();
    expect(written.endsWith('\n')).toBe(true);
    expect(written.slice(0, -1)).not.toMatch(UNSAFE);
    const lines = written.split('\n').filter((l) => l.length > 0);
    expect(lines).toHaveLength(1);
    const fields = parseKvLine(lines[0] ?? '');
    expect(fields['filename']).toBe(filename);
    expect(fields['action']).toBe('blocked');
    expect(fields['filesize']).toBe('68');
    expect(fields['msg']).toBe('EICAR found');
  });

  it('quotes as FortiOS does: backslash and double quote escaped, the rest as written', () => {
    expect(kvQuote('a "b" c\\d é')).toBe('"a \\"b\\" c\\\\d é"');
    expect(kvQuote('\r\n\t\u0000\u001b[31m\u007f\u0085\u2028')).toBe('"\\r\\n\\t\\x00\\x1b[31m\\x7f\\x85\\u2028"');
  });

  it('escapes every control character so any value stays on the line and reads back the same', () => {
    // Any code points, then a tail dense in what matters here: breaks, quotes, escapes, separators.
    const nasty = fc.constantFrom('\r', '\n', '"', '\\', '\\x41', '\u0085', '\u2028', '\u001b', '=', ' ', 'é', '😀');
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 24 }), fc.string({ unit: nasty, maxLength: 24 }), (a, b) => {
        const value = a + b;
        const quoted = kvQuote(value);
        expect(quoted).not.toMatch(UNSAFE);
        expect(parseKvLine(`k=${quoted} n=1`)).toEqual({ k: value, n: '1' });
      }),
      { numRuns: 300 },
    );
  });

  it('escapes or keeps every single UTF-16 code unit so that it reads back the same', () => {
    const wrong: number[] = [];
    for (let c = 0; c <= 0xffff; c++) {
      const value = `a${String.fromCharCode(c)}b`;
      const quoted = kvQuote(value);
      if (UNSAFE.test(quoted) || parseKvLine(`k=${quoted}`)['k'] !== value) wrong.push(c);
    }
    expect(wrong).toEqual([]);
  });

  it('writes a non-JSON line as one escaped msg field', () => {
    expect(toKv('not json\rforged=1')).toBe('msg="not json\\rforged=1"');
  });

  it('gives the same lines whatever the chunking, even inside a multi-byte character', () => {
    const record = `${JSON.stringify({ time: 0, filename: 'фото\r\n.jpg', msg: 'ok' })}\n`;
    const bytes = Buffer.from(record + record);
    const lines: string[] = [];
    for (let at = 0; at <= bytes.length; at++) {
      const { out, text } = collector();
      const dest = kvDestination(out);
      dest.write(bytes.subarray(0, at));
      dest.write(bytes.subarray(at));
      lines.push(text());
    }
    const whole = lines[0] ?? '';
    expect(whole.split('\n')).toHaveLength(3);
    expect(parseKvLine(whole.split('\n')[0] ?? '')['filename']).toBe('фото\r\n.jpg');
    for (const l of lines) expect(l).toBe(whole);
  });
});
