#!/usr/bin/env node
/**
 * `cli.js FILE`: prints the PDU as one JSON object (CONTRACT §4), exit 0; on
 * a PDU it cannot decode prints {"error":{code,message,offset}}, exit 1. Never
 * a stack trace, whatever the bytes.
 */
import { readFileSync } from 'node:fs';
import { decode } from './mms/decode.js';
import { MmsError } from './errors.js';
import { pduToJson } from './json.js';

function out(obj: unknown): void {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

function main(argv: readonly string[]): number {
  const file = argv[0];
  if (file === undefined || argv.length !== 1 || file === '--help' || file === '-h') {
    process.stderr.write('usage: wap-mms-decode FILE   (prints the decoded MMS PDU as JSON)\n');
    return 2;
  }
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code ?? 'read error';
    out({ error: { code: 'MMS_ERR_IO', message: `cannot read ${file}: ${reason}`, offset: -1 } });
    return 2;
  }
  try {
    out(pduToJson(decode(bytes)));
    return 0;
  } catch (e) {
    if (e instanceof MmsError) out({ error: e.toJSON() });
    else out({ error: { code: 'MMS_ERR_INTERNAL', message: 'internal decoder error', offset: -1 } });
    return 1;
  }
}

process.exitCode = main(process.argv.slice(2));
