/**
 * The trivial upstream of the idle bench, run in its own process: reads each POST body whole and answers a
 * 40-byte m-send-conf; nothing decoded, nothing stored, so the proxy is what is measured.
 *   UPSTREAM_PORT (required)
 */
import { createServer } from 'node:http';
import { ResponseStatus, buildSendConf } from 'wap-mms-decoder';

const conf = Buffer.from(buildSendConf({ transactionId: 'bench', version: 0x12, status: ResponseStatus.OK, text: null, messageId: 'm1' }));
const server = createServer((req, res) => {
  req.on('data', () => undefined);
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/vnd.wap.mms-message', 'content-length': conf.length });
    res.end(conf);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.env['UPSTREAM_PORT']), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
