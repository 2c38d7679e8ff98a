/**
 * A small scripted ICAP server on 127.0.0.1 for the fault tests: it reads real requests off the
 * wire (head, encapsulated HTTP heads, chunked preview, the rest after `100 Continue`) and lets each
 * test answer with whatever bytes it wants — right, wrong, late or never. Not a mock of our code.
 */
import { createServer, type Server, type Socket } from 'node:net';

export const OPTIONS_OK = (extra = 'Preview: 1024\r\n', methods = 'RESPMOD, REQMOD'): string =>
  `ICAP/1.0 200 OK\r\nMethods: ${methods}\r\nISTag: "FAKE-1"\r\n${extra}Allow: 204\r\n` +
  'Encapsulated: null-body=0\r\n\r\n';
export const NO_CONTENT = (istag = 'FAKE-1'): string => `ICAP/1.0 204 No Content\r\nISTag: "${istag}"\r\n\r\n`;

/** Bytes off a socket, read by delimiter or count. */
class WireReader {
  private buf = Buffer.alloc(0);
  private waiter: (() => void) | null = null;
  closed = false;
  constructor(sock: Socket) {
    sock.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.waiter?.();
    });
    sock.on('close', () => {
      this.closed = true;
      this.waiter?.();
    });
    sock.on('error', () => undefined);
  }
  private async more(): Promise<void> {
    if (this.closed) throw new Error('closed');
    await new Promise<void>((r) => (this.waiter = r));
    this.waiter = null;
  }
  async until(delim: string): Promise<Buffer> {
    for (;;) {
      const i = this.buf.indexOf(delim);
      if (i !== -1) {
        const out = this.buf.subarray(0, i + delim.length);
        this.buf = this.buf.subarray(i + delim.length);
        return out;
      }
      await this.more();
    }
  }
  async take(n: number): Promise<Buffer> {
    while (this.buf.length < n) await this.more();
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }
  /** Chunks up to the zero chunk; returns the data and whether the zero chunk said ieof. */
  async chunks(): Promise<{ data: Buffer; ieof: boolean }> {
    const parts: Buffer[] = [];
    for (;;) {
      const line = (await this.until('\r\n')).toString('latin1').trim();
      const size = Number.parseInt(line, 16);
      if (size === 0) {
        await this.until('\r\n');
        return { data: Buffer.concat(parts), ieof: /;\s*ieof/.test(line) };
      }
      parts.push(await this.take(size));
      await this.take(2);
    }
  }
}

export interface FakeRequest {
  readonly method: string;
  readonly uri: string;
  readonly fields: Map<string, string>;
  /** The encapsulated HTTP heads as sent. */
  readonly http: string;
  readonly preview: Buffer;
  readonly ieof: boolean;
}

export interface Exchange {
  readonly req: FakeRequest;
  readonly sock: Socket;
  /** Sends `100 Continue` and reads the rest of the body. */
  continue(): Promise<Buffer>;
  write(s: string | Uint8Array): void;
}

export type Script = (x: Exchange) => Promise<void> | void;

export interface Fake {
  readonly url: string;
  readonly port: number;
  readonly requests: FakeRequest[];
  /** Connections accepted so far, and the most open at once. */
  readonly stats: { connections: number; open: number; maxOpen: number };
  close(): Promise<void>;
}

async function readRequest(r: WireReader): Promise<FakeRequest> {
  const head = (await r.until('\r\n\r\n')).toString('latin1');
  const [line = '', ...rest] = head.trimEnd().split('\r\n');
  const [method = '', uri = ''] = line.split(' ');
  const fields = new Map<string, string>();
  for (const l of rest) fields.set(l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim());
  const enc = (fields.get('encapsulated') ?? '').split(',').map((x) => x.trim().split('='));
  const last = enc[enc.length - 1] ?? ['null-body', '0'];
  const http = (await r.take(Number(last[1]))).toString('latin1');
  if (last[0] === 'null-body') return { method, uri, fields, http, preview: Buffer.alloc(0), ieof: true };
  const { data, ieof } = await r.chunks();
  return { method, uri, fields, http, preview: data, ieof };
}

/** Answers OPTIONS with `options` (unless the script handles it) and everything else with `script`. */
export async function fakeIcap(script: Script, options: string | null = OPTIONS_OK()): Promise<Fake> {
  const requests: FakeRequest[] = [];
  const sockets = new Set<Socket>();
  const stats = { connections: 0, open: 0, maxOpen: 0 };
  const srv: Server = createServer((sock) => {
    sockets.add(sock);
    stats.connections++;
    stats.maxOpen = Math.max(stats.maxOpen, ++stats.open);
    sock.on('close', () => {
      stats.open--;
      sockets.delete(sock);
    });
    const r = new WireReader(sock);
    void (async () => {
      try {
        while (!r.closed && !sock.destroyed) {
          const req = await readRequest(r);
          requests.push(req);
          const write = (s: string | Uint8Array): void => {
            if (!sock.destroyed) sock.write(s);
          };
          if (req.method === 'OPTIONS' && options !== null) {
            write(options);
            continue;
          }
          await script({
            req, sock, write,
            async continue() {
              write('ICAP/1.0 100 Continue\r\n\r\n');
              return (await r.chunks()).data;
            },
          });
        }
      } catch {
        sock.destroy();
      }
    })();
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const a = srv.address();
  const port = typeof a === 'object' && a !== null ? a.port : 0;
  return {
    url: `icap://127.0.0.1:${port}/svc`, port, requests, stats,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => srv.close(r));
    },
  };
}

/** A 200 reply with an encapsulated HTTP response head and a chunked body. */
export function okReply(icapFields: string, httpHead: string, chunks: readonly (string | Uint8Array)[] | null): Buffer {
  const enc = chunks === null ? `res-hdr=0, null-body=${httpHead.length}` : `res-hdr=0, res-body=${httpHead.length}`;
  const icap = `ICAP/1.0 200 OK\r\nISTag: "FAKE-1"\r\n${icapFields}Encapsulated: ${enc}\r\n\r\n`;
  const head = Buffer.from(icap + httpHead, 'latin1');
  if (chunks === null) return head;
  const body = chunks.flatMap((c) => {
    const b = typeof c === 'string' ? Buffer.from(c, 'latin1') : Buffer.from(c);
    return [Buffer.from(`${b.length.toString(16)}\r\n`), b, Buffer.from('\r\n')];
  });
  return Buffer.concat([head, ...body, Buffer.from('0\r\n\r\n')]);
}
