/**
 * MMSC simulator (MM1 side). Accepts m-send-req (answers m-send-conf Ok with
 * a Message-ID and stores the message), serves each stored message as an
 * m-retrieve-conf at /mms/<id>, accepts the other handset PDUs. Tests steer
 * faults per request with headers the proxy forwards untouched:
 *   x-sim-delay-ms: N         wait N ms before answering (slow headers)
 *   x-sim-trickle: B:MS       send the response body B bytes every MS ms (slow body)
 *   x-sim-mode: fail|reset|garbage|reset-mid-body
 * /_sim/* is the control plane: preload a PDU, list what arrived.
 */
import { createHash } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import {
  FIELD, MessageType, ResponseStatus, buildSendConf, decode, encode, isMmsError, type MmsHeader, type MmsPdu,
} from 'wap-mms-decoder';
import { buildFault, buildRsp, decodedBody, parseMime, parseSoap, type SoapRequest } from '@mmsguard/mm7';

const MMS = 'application/vnd.wap.mms-message';

export interface Received {
  readonly method: string;
  readonly url: string;
  readonly length: number;
  readonly sha256: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly messageType: number | null;
  readonly complete: boolean;
}

export interface SimOptions {
  /** Public base URL handed out in Content-Location (default: as requested). */
  readonly baseUrl?: string;
  readonly logger?: boolean;
  /** Longest body accepted (default 64 MiB). */
  readonly bodyLimit?: number;
  /** Keep received messages for retrieval and the /_sim/received log (default true; benches turn it off). */
  readonly store?: boolean;
}

export interface Sim {
  readonly app: FastifyInstance;
  readonly received: Received[];
  readonly messages: Map<string, Uint8Array>;
  /** MM7 request bodies as received (when storing). */
  readonly mm7Bodies: Buffer[];
}

function toRetrieveConf(pdu: MmsPdu, id: string, sender: string | null): Uint8Array {
  const headers: MmsHeader[] = [
    {
      type: 'well-known', code: FIELD.MESSAGE_TYPE, name: '',
      value: { kind: 'octet', value: MessageType.RETRIEVE_CONF },
    },
    { type: 'well-known', code: FIELD.TRANSACTION_ID, name: '', value: { kind: 'text', value: `R-${id}` } },
    { type: 'well-known', code: FIELD.MMS_VERSION, name: '', value: { kind: 'octet', value: 0x92 } },
    { type: 'well-known', code: FIELD.MESSAGE_ID, name: '', value: { kind: 'text', value: id } },
    {
      type: 'well-known', code: FIELD.DATE, name: '', value: { kind: 'integer', value: Math.floor(Date.now() / 1000) },
    },
  ];
  for (const h of pdu.headers) {
    if (h.type !== 'well-known') continue;
    if (h.code === FIELD.FROM) {
      const address = h.value.kind === 'from' && h.value.address !== null
        ? h.value.address
        : { text: `${sender ?? '+10000000000'}/TYPE=PLMN`, charset: null };
      headers.push({ ...h, value: { kind: 'from', address } });
    } else if (h.code === FIELD.TO || h.code === FIELD.CC || h.code === FIELD.SUBJECT) headers.push(h);
  }
  const body = pdu.body ?? new Uint8Array(0);
  const ct = pdu.contentType ?? { mediaType: 'text/plain', params: [] };
  const head = encode({ headers, contentType: ct, body: new Uint8Array(0) });
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}

async function applyFaults(
  req: FastifyRequest, reply: FastifyReply, body: Uint8Array, contentType: string,
): Promise<boolean> {
  const delay = Number(req.headers['x-sim-delay-ms'] ?? 0);
  if (delay > 0) await new Promise((r) => setTimeout(r, delay));
  const mode = req.headers['x-sim-mode'];
  if (mode === 'reset') {
    req.raw.socket.destroy();
    return true;
  }
  if (mode === 'fail') {
    await reply.code(500).type('text/plain').send('simulated MMSC failure');
    return true;
  }
  if (mode === 'garbage') {
    req.raw.socket.end('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nGarbage\r\n\r\n');
    return true;
  }
  const trickle = req.headers['x-sim-trickle'];
  if (typeof trickle === 'string' || mode === 'reset-mid-body') {
    const [b, ms] = typeof trickle === 'string' ? trickle.split(':').map(Number) : [Math.ceil(body.length / 2), 10];
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': contentType, 'content-length': String(body.length) });
    let off = 0;
    const step = (): void => {
      if (res.destroyed) return;
      if (mode === 'reset-mid-body' && off > 0) {
        res.socket?.destroy();
        return;
      }
      const n = Math.max(1, b ?? 1);
      res.write(body.subarray(off, off + n));
      off += n;
      if (off >= body.length) res.end();
      else setTimeout(step, ms ?? 10);
    };
    step();
    return true;
  }
  return false;
}

let mm7Seq = 0;

/** MM7 side: a VASP or MMSC that accepts every well-formed request with 1000 Success. */
async function mm7Answer(
  req: FastifyRequest, reply: FastifyReply, body: Buffer, ctype: string, received: Received[], bodies: Buffer[] | null,
): Promise<FastifyReply> {
  let soap: SoapRequest | null = null;
  try {
    if (ctype.startsWith('text/xml')) soap = parseSoap(body.toString('utf8'));
    else {
      const root = parseMime(body, req.headers['content-type'] ?? '').root.children?.[0];
      if (root !== undefined) soap = parseSoap(Buffer.from(decodedBody(root)).toString('utf8'));
    }
  } catch {
    soap = null;
  }
  bodies?.push(body);
  if (bodies !== null) {
    received.push({
      method: 'POST', url: req.url, length: body.length, sha256: createHash('sha256').update(body).digest('hex'),
      headers: req.headers, messageType: null, complete: true,
    });
  }
  // A SubmitRsp names the message the MMSC accepted (MessageID), as real MMSCs do.
  const messageId = soap?.operation === 'SubmitReq' ? `sim-mm7-${Date.now().toString(36)}-${++mm7Seq}` : undefined;
  const r = soap === null
    ? buildFault({ operation: null, transactionId: null, namespace: null, mm7Version: null }, 2007)
    : buildRsp(soap, 1000, undefined, undefined, messageId);
  if (await applyFaults(req, reply, Buffer.from(r.body), r.contentType)) return reply;
  return reply.code(r.httpStatus).type(r.contentType).send(r.body);
}

export function buildSim(opts: SimOptions = {}): Sim {
  const app = Fastify({ logger: opts.logger ?? false, bodyLimit: opts.bodyLimit ?? 64 * 1024 * 1024 });
  const received: Received[] = [];
  const messages = new Map<string, Uint8Array>();
  let seq = 0;
  const mm7Bodies: Buffer[] = [];
  const mm7 = (req: FastifyRequest, reply: FastifyReply, body: Buffer, ctype: string): Promise<FastifyReply> =>
    mm7Answer(req, reply, body, ctype, received, opts.store !== false ? mm7Bodies : null);
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.get('/_sim/received', (_req, reply) => reply.send(received));
  app.put('/_sim/messages/:id', (req, reply) => {
    const { id } = req.params as { id: string };
    messages.set(id, new Uint8Array(req.body as Buffer));
    return reply.send({ id, url: `/mms/${id}` });
  });

  app.get('/mms/:id', async (req, reply) => {
    const { id } = req.params as { id: string };
    received.push({
      method: 'GET', url: req.url, length: 0, sha256: '', headers: req.headers, messageType: null, complete: true,
    });
    const pdu = messages.get(id);
    if (pdu === undefined) return reply.code(404).type('text/plain').send('no such message');
    if (await applyFaults(req, reply, pdu, MMS)) return reply;
    return reply.type(MMS).send(Buffer.from(pdu));
  });

  app.post('/*', async (req, reply) => {
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const ctype = (req.headers['content-type'] ?? '').toLowerCase();
    if (ctype.startsWith('multipart/related') || ctype.startsWith('text/xml')) return mm7(req, reply, body, ctype);
    let pdu: MmsPdu | null = null;
    try {
      pdu = decode(body);
    } catch (e) {
      if (!isMmsError(e)) throw e;
    }
    if (opts.store !== false) received.push({
      method: 'POST', url: req.url, length: body.length, sha256: createHash('sha256').update(body).digest('hex'),
      headers: req.headers, messageType: pdu?.messageType ?? null, complete: true,
    });
    if (pdu === null) {
      return reply.type(MMS).send(Buffer.from(buildSendConf({
        transactionId: null, status: ResponseStatus.ERROR_PERMANENT_MESSAGE_FORMAT_CORRUPT,
        text: 'MMSC: undecodable PDU',
      })));
    }
    if (pdu.messageType !== MessageType.SEND_REQ && pdu.messageType !== MessageType.FORWARD_REQ) {
      return reply.code(204).send();
    }
    const id = `sim-${Date.now().toString(36)}-${++seq}`;
    const msisdn = req.headers['x-wap-network-client-msisdn'];
    if (opts.store !== false) messages.set(id, toRetrieveConf(pdu, id, typeof msisdn === 'string' ? msisdn : null));
    const tid = pdu.headers.find((h) => h.type === 'well-known' && h.code === FIELD.TRANSACTION_ID);
    const conf = Buffer.from(buildSendConf({
      transactionId: tid?.type === 'well-known' && tid.value.kind === 'text' ? tid.value.value : null,
      status: ResponseStatus.OK, messageId: id,
    }));
    if (await applyFaults(req, reply, conf, MMS)) return reply;
    return reply.type(MMS).header('x-sim-message-url', `${opts.baseUrl ?? ''}/mms/${id}`).send(conf);
  });
  return { app, received, messages, mm7Bodies };
}
