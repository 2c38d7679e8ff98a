/**
 * The VASP form (CONTRACT §9) read as it arrives: `multipart/form-data` through busboy, every byte
 * of the request charged to the in-flight budget and counted against MM7_OVERSIZE_LIMIT while it
 * streams, busboy's own limits on fields, files, parts and sizes on top. What the form says becomes
 * a SubmitReq (REL-6-MM7-1-4, built by @mmsguard/mm7): that is the message the pipeline inspects
 * and, when clean, what goes to the MMSC — the bytes scanned are the bytes sent.
 */
import { randomBytes } from 'node:crypto';
import busboy from 'busboy';
import { buildSubmitReq, type SubmitAttachment } from '@mmsguard/mm7';
import type { BodyResult } from '../body.js';
import type { ProtocolConfig } from '../config.js';
import type { Exchange } from '../exchange.js';
import { Transfer } from '../pipeline/transfer.js';

/** Stable codes of a form we refuse before inspecting it (HTTP 400). */
export const FormErrorCode = {
  /** Not multipart/form-data, no boundary, a broken part, or the form ends early. */
  MALFORMED: 'MMS_ERR_FORM_MALFORMED',
  /** Too many files, fields or parts, or a field value over its size. */
  LIMIT: 'MMS_ERR_FORM_LIMIT',
  /** A required field is missing or a value is not acceptable (no `to`, an address with control characters). */
  FIELD: 'MMS_ERR_FORM_FIELD',
} as const;
export type FormErrorCode = (typeof FormErrorCode)[keyof typeof FormErrorCode];

/** Files per form: each is a scan target and a MIME part; a thousand empty files must not cost a thousand scans. */
export const MAX_FORM_FILES = 20;
/** Text fields per form: to (repeatable), from, subject, vasp_id, vas_id; the rest is noise or an attack. */
export const MAX_FORM_FIELDS = 120;
/** Recipients per form: one form is one message; a broadcast to thousands is no small VASP's form. */
export const MAX_FORM_RECIPIENTS = 100;
/** A field value (an address, a subject): bounds what busboy buffers per field outside the budget. */
export const MAX_FORM_FIELD_BYTES = 1024;
/** Header lines per part: a part with thousands of headers is a parser attack, not a file. */
const MAX_PART_HEADERS = 16;

export interface FormProblem {
  readonly code: FormErrorCode;
  readonly detail: string;
}

/** A form field's text is checked before it goes into XML and MIME: no control characters, bounded. */
// eslint-disable-next-line no-control-regex -- control characters are what this matches
const CONTROL = /[\u0000-\u001f\u007f]/;

export interface FormFields {
  readonly to: string[];
  from: string | null;
  subject: string | null;
  vaspId: string | null;
  vasId: string | null;
}

/**
 * Reads the form against the budget and the oversize limit; `complete` carries the SubmitReq built
 * from it (or, with `problem` set, nothing: the adapter answers 400). Never `pass`es: an oversized
 * form is refused (there is no SubmitReq to forward unscanned).
 */
export class FormTransfer extends Transfer {
  readonly abortReason = 'client aborted the form upload';
  /** Why the form was refused before inspection, or null. */
  problem: FormProblem | null = null;
  /** The SubmitReq's Content-Type, once built. */
  contentType = '';
  private held = 0;

  constructor(ex: Exchange, proto: ProtocolConfig, declared: number | null) {
    super(ex, proto, ex.req.raw, declared, false);
  }

  override get oversizePass(): boolean {
    return false;
  }

  override async read(): Promise<BodyResult> {
    const { ctx, req } = this.ex;
    const raw = req.raw;
    const limit = this.proto.oversizeLimit;
    if (this.declared !== null && this.declared > limit) {
      raw.pause();
      return { kind: 'oversize', head: Buffer.alloc(0), rest: raw, reserved: 0 };
    }
    if (this.declared !== null && this.declared > ctx.budget.limit) {
      raw.resume();
      return { kind: 'budget', reserved: 0 };
    }
    const fields: FormFields = { to: [], from: null, subject: null, vaspId: null, vasId: null };
    const files: SubmitAttachment[] = [];
    const r = await new Promise<'complete' | 'oversize' | 'budget' | 'aborted'>((resolve) => {
      let settled = false;
      let total = 0;
      const done = (kind: 'complete' | 'oversize' | 'budget' | 'aborted', p?: FormProblem): void => {
        if (settled) return;
        settled = true;
        if (p !== undefined && this.problem === null) this.problem = p;
        raw.off('data', count);
        raw.unpipe();
        if (kind === 'budget' || (kind === 'complete' && p !== undefined)) raw.resume();
        if (kind === 'oversize') raw.pause();
        resolve(kind);
      };
      const fail = (code: FormErrorCode, detail: string): void => done('complete', { code, detail });
      // Every request byte is held (as a field, a file or busboy's buffer) until the verdict: charge them all.
      const count = (c: Buffer): void => {
        total += c.length;
        if (total > limit) return done('oversize');
        if (!ctx.budget.tryTake(c.length)) return done('budget');
        this.held += c.length;
      };
      let bb: busboy.Busboy;
      try {
        bb = busboy({
          headers: req.headers, defParamCharset: 'utf8',
          limits: {
            fieldNameSize: 64, fieldSize: MAX_FORM_FIELD_BYTES, fields: MAX_FORM_FIELDS, files: MAX_FORM_FILES,
            parts: MAX_FORM_FIELDS + MAX_FORM_FILES, fileSize: limit, headerPairs: MAX_PART_HEADERS,
          },
        });
      } catch (e) {
        raw.resume();
        settled = true;
        this.problem = { code: FormErrorCode.MALFORMED, detail: (e as Error).message };
        resolve('complete');
        return;
      }
      bb.on('field', (name, value, info) => {
        if (info.valueTruncated || info.nameTruncated) {
          return fail(FormErrorCode.LIMIT, `field ${name} over ${MAX_FORM_FIELD_BYTES} bytes`);
        }
        const p = setField(fields, name, value);
        if (p !== null) fail(FormErrorCode.FIELD, p);
      });
      bb.on('file', (name, stream, info) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('limit', () => done('oversize'));
        stream.on('end', () => {
          if (settled || stream.truncated) return;
          const filename = info.filename ?? name;
          files.push({
            name: filename.length === 0 || CONTROL.test(filename) ? name : filename.slice(0, 255),
            contentType: /^[\w.+-]+\/[\w.+-]+$/.test(info.mimeType) ? info.mimeType : 'application/octet-stream',
            data: Buffer.concat(chunks),
          });
        });
      });
      bb.on('filesLimit', () => fail(FormErrorCode.LIMIT, `more than ${MAX_FORM_FILES} files`));
      bb.on('fieldsLimit', () => fail(FormErrorCode.LIMIT, `more than ${MAX_FORM_FIELDS} fields`));
      bb.on('partsLimit', () => fail(FormErrorCode.LIMIT, 'too many parts'));
      bb.on('error', (e: Error) => fail(FormErrorCode.MALFORMED, e.message));
      bb.on('close', () => done('complete'));
      raw.on('aborted', () => done('aborted'));
      raw.on('error', () => done('aborted'));
      raw.on('data', count);
      raw.pipe(bb);
    });
    if (r === 'oversize') return { kind: 'oversize', head: Buffer.alloc(0), rest: raw, reserved: 0 };
    if (r === 'budget' || r === 'aborted') return { kind: r, reserved: 0 };
    if (this.problem === null) this.problem = checkFields(fields);
    if (this.problem !== null) return { kind: 'complete', body: Buffer.alloc(0), reserved: 0 };
    const m = buildSubmitReq({
      transactionId: `mmsguard-form-${randomBytes(8).toString('hex')}`, vaspId: fields.vaspId, vasId: fields.vasId,
      from: fields.from, to: fields.to, subject: fields.subject, attachments: files,
    });
    // The SubmitReq holds the files again (SOAP and MIME headers around them): it replaces what was charged.
    const more = m.body.length - this.held;
    if (more > 0 && !ctx.budget.tryTake(more)) return { kind: 'budget', reserved: 0 };
    this.held += Math.max(0, more);
    this.contentType = m.contentType;
    this.body = m.body;
    return { kind: 'complete', body: m.body, reserved: 0 };
  }

  /** The SubmitReq built from the form (empty before `read` completes). */
  submitReq(): Uint8Array {
    return this.body ?? new Uint8Array(0);
  }

  /** Gives what the form held back to the budget. */
  override release(): void {
    const { ctx } = this.ex;
    ctx.budget.give(this.held);
    this.held = 0;
  }
}

/** Stores one text field; a problem's text, or null. Unknown fields are ignored (browsers send submit buttons). */
export function setField(f: FormFields, name: string, value: string): string | null {
  const v = value.trim();
  if (CONTROL.test(v)) return `field ${name} has control characters`;
  switch (name) {
    case 'to':
      if (v === '') return 'field to is empty';
      if (f.to.length >= MAX_FORM_RECIPIENTS) return `more than ${MAX_FORM_RECIPIENTS} recipients`;
      f.to.push(v);
      return null;
    case 'from':
    case 'subject':
    case 'vasp_id':
    case 'vas_id': {
      const key = ({ from: 'from', subject: 'subject', vasp_id: 'vaspId', vas_id: 'vasId' } as const)[name];
      if (f[key] !== null) return `field ${name} given twice`;
      f[key] = v === '' ? null : v;
      return null;
    }
    default:
      return null;
  }
}

/** What a complete form must have: at least one recipient. */
export function checkFields(f: FormFields): FormProblem | null {
  return f.to.length === 0 ? { code: FormErrorCode.FIELD, detail: 'no recipient: give at least one to field' } : null;
}
