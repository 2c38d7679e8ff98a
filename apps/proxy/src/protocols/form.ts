/**
 * The VASP form interface (CONTRACT §9): `POST /mm7/form` on MM7_PORT, for small content providers
 * that cannot speak SOAP. The form (form-body.ts) becomes a SubmitReq, which is inspected as any MM7
 * request is — the same adapter reading (mm7.ts `inspectionOf`), the same checks (MSISDN list, VASP
 * quota, flood/duplicate, scan, policy), the same verdict and UTM records (service MM7) — and only the
 * answer differs: JSON. Clean: the SubmitReq goes to MM7_UPSTREAM_URL and the caller gets the MMSC's
 * SubmitRsp as `{"status_code":N,"message_id":…}`; refused: the reply table's `form` HTTP status with
 * the MM7 StatusCode, and for blocked content (422) the findings.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Dispatcher } from 'undici';
import { Mm7Error, Mm7Status, parseMm7Message, parseSubmitRsp } from '@mmsguard/mm7';
import type { BodyResult } from '../body.js';
import type { ProxyContext } from '../context.js';
import { replyRow } from '../errors.js';
import { Exchange } from '../exchange.js';
import type { Envelope, Inspection, Verdict } from '../pipeline/inspection.js';
import { runPipeline, type Adapter } from '../pipeline/run.js';
import type { UtmEvent } from '../records.js';
import { classify } from '../upstream.js';
import { FormTransfer } from './form-body.js';
import { inspectionOf, retryAfter } from './mm7.js';

/** Where the form is posted on MM7_PORT. */
export const FORM_PATH = '/mm7/form';
/** An MMSC answer larger than this is no SubmitRsp: read no further (a hostile MMSC cannot fill our memory). */
const MAX_RSP_BYTES = 64 * 1024;

/** The exchange of a form: it keeps what the checks noted, for the findings of a 422. */
class FormExchange extends Exchange {
  readonly seen: UtmEvent[] = [];

  override note(e: UtmEvent): void {
    this.seen.push(e);
    super.note(e);
  }
}

/** The findings of a blocked form, for the VASP (file, type, what was found; never bytes). */
function findings(events: readonly UtmEvent[]): Record<string, unknown>[] {
  return events.filter((e) => e.role === 'cause').map((e) => {
    const f = e.finding;
    return {
      subtype: e.subtype, file: e.part.filename, type: e.part.filetype, size: e.part.filesize, sha256: e.part.sha256,
      ...(f?.kind === 'infected' ? { virus: f.name, engine: f.engine } : {}),
      ...(f?.kind === 'file-type' ? { file_type: f.type } : {}),
      ...(f?.kind === 'unscannable' ? { unscannable: f.reason } : {}),
      ...(f !== null ? { path: f.path } : {}),
    };
  });
}

class FormRequest implements Adapter {
  constructor(private readonly ex: FormExchange, readonly transfer: FormTransfer) {}

  read(body: Buffer): Inspection | { code: string; detail: string } {
    const p = this.transfer.problem;
    if (p !== null) return p;
    try {
      return inspectionOf(this.ex, parseMm7Message(body, this.transfer.contentType), body);
    } catch (e) {
      // We built it: a SubmitReq our own parser refuses is a bug, but the VASP still gets an answer.
      if (e instanceof Mm7Error) return { code: e.code, detail: e.message };
      throw e;
    }
  }

  peek(): Envelope | null {
    return null;
  }

  async render(v: Verdict, _r: BodyResult): Promise<void> {
    const { ex, transfer: t } = this;
    const o = v.outcome;
    switch (o.kind) {
      case 'forward':
      case 'forward-unscanned':
        return this.submit(v, t.submitReq());
      case 'rewrite':
        return this.submit(v, v.rewritten ?? t.submitReq());
      case 'abort':
        return ex.abandon(v);
      case 'hide': {
        // BULK_BLOCK_REPLY=hide: the VASP is told it went through, as an MM7 VASP would be (the id is logged).
        const messageId = `mmsguard-${Date.now().toString(36)}`;
        ex.identify(messageId);
        return this.answer(v, 200, { status_code: Mm7Status.SUCCESS, message_id: messageId });
      }
      case 'refuse':
      case 'transient': {
        const row = replyRow(o.reason);
        const refused = o.kind === 'refuse' && o.reason === 'content';
        return this.answer(v, row.form, {
          status_code: row.mm7.code, error: o.reason, reason: v.reason,
          ...(refused ? { findings: findings(ex.seen) } : {}),
        }, { ...retryAfter(v), ...(row.form === 413 ? { connection: 'close' } : {}) });
      }
    }
  }

  private answer(
    v: Verdict, status: number, body: Record<string, unknown>, headers: Record<string, string> = {},
  ): void {
    this.ex.finish(v, { status });
    void this.ex.reply.code(status).headers(headers).type('application/json').send(JSON.stringify(body));
  }

  /** POSTs the SubmitReq to MM7_UPSTREAM_URL and turns the MMSC's SubmitRsp (or Fault) into JSON. */
  private async submit(v: Verdict, body: Uint8Array): Promise<void> {
    const { ex } = this;
    const { ctx } = ex;
    const started = performance.now();
    let res: Dispatcher.ResponseData;
    let xml: string;
    try {
      res = await ctx.mm7Upstream.request({
        // To MM7_UPSTREAM_URL as written (CONTRACT §9), path and all: not that path plus '/'.
        method: 'POST', path: '', body, contentLength: body.length,
        headers: { 'content-type': this.transfer.contentType, soapaction: '""' },
      });
      xml = await readCapped(res, MAX_RSP_BYTES);
      ctx.metrics.upstreamSeconds.observe({ service: 'MM7', method: 'POST' }, (performance.now() - started) / 1000);
    } catch (e) {
      const kind = classify(e);
      ctx.metrics.upstreamErrors.inc({ service: 'MM7', kind });
      const why = `upstream ${kind}: ${(e as Error).message}`;
      ex.finish(v, { status: 502, error: why });
      void ex.reply.code(502).type('application/json').send(JSON.stringify({
        status_code: Mm7Status.SERVICE_UNAVAILABLE, error: 'upstream', reason: 'the MMSC could not be reached',
      }));
      return;
    }
    try {
      const rsp = parseSubmitRsp(xml);
      // The MMSC's own refusal (a Fault, or a Rsp with an error StatusCode) is its answer, passed on as 502.
      const ok = rsp.statusCode >= 1000 && rsp.statusCode < 2000;
      ex.identify(rsp.messageId);
      ex.finish(v, { status: res.statusCode });
      void ex.reply.code(ok ? 200 : 502).type('application/json').send(JSON.stringify({
        status_code: rsp.statusCode, message_id: rsp.messageId,
        ...(rsp.statusText !== null ? { status_text: rsp.statusText } : {}),
      }));
    } catch (e) {
      const why = `upstream answered no SubmitRsp (HTTP ${res.statusCode}): ${(e as Error).message}`;
      ex.finish(v, { status: 502, error: why });
      void ex.reply.code(502).type('application/json').send(JSON.stringify({
        status_code: Mm7Status.SERVICE_UNAVAILABLE, error: 'upstream', reason: 'the MMSC answered no SubmitRsp',
      }));
    }
  }
}

/** Reads an upstream answer up to `max` bytes; past that it is dropped and the read fails. */
async function readCapped(res: Dispatcher.ResponseData, max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of res.body as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > max) {
      res.body.destroy();
      throw new Error(`answer over ${max} bytes`);
    }
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function handleForm(ctx: ProxyContext, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const ex = new FormExchange(ctx, req, reply, 'MM7', 'outgoing', ctx.mm7Upstream);
  const v = req.headers['content-length'];
  const cl = v === undefined ? null : /^\d+$/.test(v) ? Number(v) : null;
  await runPipeline(ex, new FormRequest(ex, new FormTransfer(ex, ctx.config.mm7, cl)));
  return reply;
}
