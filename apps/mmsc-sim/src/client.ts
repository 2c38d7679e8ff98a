#!/usr/bin/env node
/**
 * A handset in a command: `mms-client send URL FILE` POSTs a PDU file,
 * `mms-client fetch URL` GETs a message; both print the HTTP status and the
 * decoded reply as JSON.
 */
import { readFile } from 'node:fs/promises';
import { decode, isMmsError, pduToJson } from 'wap-mms-decoder';

async function main(argv: string[]): Promise<number> {
  const [cmd, url, file] = argv;
  if ((cmd !== 'send' && cmd !== 'fetch') || url === undefined || (cmd === 'send' && file === undefined)) {
    process.stderr.write('usage: mms-client send URL FILE | mms-client fetch URL\n');
    return 2;
  }
  const init: RequestInit = cmd === 'send'
    ? {
      method: 'POST', headers: { 'content-type': 'application/vnd.wap.mms-message' },
      body: await readFile(file as string),
    }
    : { method: 'GET' };
  const res = await fetch(url, init);
  const body = new Uint8Array(await res.arrayBuffer());
  let decoded: unknown = null;
  try {
    decoded = pduToJson(decode(body));
  } catch (e) {
    decoded = isMmsError(e) ? { error: e.toJSON() } : { error: String(e) };
  }
  process.stdout.write(`${JSON.stringify({ status: res.status, bytes: body.length, pdu: decoded })}\n`);
  return res.ok ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (c) => (process.exitCode = c),
  (e: unknown) => {
    process.stderr.write(`mms-client: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
