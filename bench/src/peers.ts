/**
 * The peers of the proxy bench, as an operator would deploy them from Debian packages, each with a private config,
 * port, pid file and temp dir (nothing under /etc or /var written) on 127.0.0.1: nginx as a buffering pass-through,
 * and squid as a reverse proxy (accel) with ICAP REQMOD to c-icap's virus_scan backed by a clamd. Not started
 * here: the clamd (the caller's, shared with mmsguard + clamd). stopPeers() ends
 * what harness.start() did not start, and removes the temp dirs.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, start, waitFor } from './harness.js';

/** A peer's port and the root of each of its process trees, by name. */
export interface Peer { readonly port: number; readonly pids: Readonly<Record<string, number>> }

const tempDirs: string[] = [];
const groups: ChildProcess[] = [];

/** The installed version of a Debian package, or null. */
export function dpkgVersion(pkg: string): string | null {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Version}', pkg]);
  return r.status === 0 ? r.stdout.toString().trim() : null;
}

/** A raw ICAP OPTIONS until c-icap answers 200 (its children start after the port is bound). */
async function icapReady(port: number, service: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const line = await new Promise<string>((ok) => {
      const s = connect(port, '127.0.0.1');
      s.on('error', () => ok(''));
      s.once('data', (d: Buffer) => {
        s.destroy();
        ok(d.toString('latin1').split('\r\n')[0] ?? '');
      });
      s.write(`OPTIONS icap://127.0.0.1:${port}/${service} ICAP/1.0\r\n`
        + 'Host: 127.0.0.1\r\nEncapsulated: null-body=0\r\n\r\n');
    });
    if (line.startsWith('ICAP/1.0 200')) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`c-icap did not answer OPTIONS on port ${port}`);
}

/** nginx from Debian: 1 worker, bodies buffered in memory (`proxy_request_buffering on`), upstream keep-alive. */
export async function startNginx(upstream: number): Promise<Peer> {
  const bin = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p)) as string;
  const dir = mkdtempSync(join(tmpdir(), 'bench-nginx-'));
  tempDirs.push(dir);
  const port = await freePort();
  writeFileSync(join(dir, 'nginx.conf'), `
worker_processes 1;
error_log ${dir}/error.log warn;
pid ${dir}/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  upstream up { server 127.0.0.1:${upstream}; keepalive 128; }
  server {
    listen 127.0.0.1:${port};
    client_max_body_size 20m;
    client_body_buffer_size 2m;
    location / {
      proxy_request_buffering on;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_pass http://up;
    }
  }
}
`);
  const c = start(bin, ['-c', join(dir, 'nginx.conf'), '-p', dir, '-g', 'daemon off;'], {});
  await waitFor(`http://127.0.0.1:${port}/`);
  return { port, pids: { nginx: c.pid as number } };
}

/** squid as a reverse proxy (accel) in front of the upstream, REQMOD to c-icap's virus_scan, which asks clamd. */
export async function startSquidStack(upstream: number, clamdSocket: string): Promise<Peer> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-squid-'));
  tempDirs.push(dir);
  const icapPort = await freePort();
  const modules = ['/usr/lib/x86_64-linux-gnu/c_icap', '/usr/lib/aarch64-linux-gnu/c_icap', '/usr/lib/c_icap']
    .find((d) => existsSync(join(d, 'virus_scan.so'))) as string;
  // Debian's c-icap.conf for the server counts; the scan lines as packages/scan-icap/src/launcher.ts sets them.
  writeFileSync(join(dir, 'c-icap.conf'), [
    `PidFile ${dir}/c-icap.pid`, `CommandsSocket ${dir}/c-icap.ctl`, `Port 127.0.0.1:${icapPort}`, `TmpDir ${dir}`,
    `ServerLog ${dir}/c-icap.log`, 'Timeout 300', 'MaxKeepAliveRequests 100', 'KeepAliveTimeout 600',
    'StartServers 3', 'MaxServers 10', 'MinSpareThreads 10', 'MaxSpareThreads 20', 'ThreadsPerChild 10',
    'MaxMemObject 131072', 'Pipelining on', 'DebugLevel 1', `ModulesDir ${modules}`, `ServicesDir ${modules}`,
    'LoadMagicFile /etc/c-icap/c-icap.magic', 'TemplateDir /usr/share/c_icap/templates/', 'TemplateDefaultLanguage en',
    'Module common clamd_mod.so', `clamd_mod.ClamdSocket ${clamdSocket}`,
    'Service virus_scan virus_scan.so', 'virus_scan.DefaultEngine clamd',
    // MMS parts are pictures, audio and video too; Debian's list would pass those unscanned.
    'virus_scan.ScanFileTypes TEXT DATA EXECUTABLE ARCHIVE GRAPHICS STREAM DOCUMENT',
    'virus_scan.SendPercentData 0', 'virus_scan.MaxObjectSize 100M', 'virus_scan.Allow204Responces on', '',
  ].join('\n'));
  // Its own process group: c-icap forks its children into it, and the whole group is ended at the end.
  const icap = spawn('/usr/bin/c-icap', ['-N', '-f', join(dir, 'c-icap.conf')], { stdio: 'ignore', detached: true });
  groups.push(icap);
  await icapReady(icapPort, 'virus_scan');
  const port = await freePort();
  writeFileSync(join(dir, 'squid.conf'), [
    `http_port 127.0.0.1:${port} accel defaultsite=127.0.0.1 no-vhost`,
    `cache_peer 127.0.0.1 parent ${upstream} 0 no-query no-digest originserver name=up`,
    'cache_peer_access up allow all', 'never_direct allow all', 'http_access allow all', 'cache deny all',
    'cache_mem 8 MB', 'access_log none', 'cache_store_log none', `cache_log ${dir}/cache.log`,
    `pid_filename ${dir}/squid.pid`, `coredump_dir ${dir}`, 'netdb_filename none', 'pinger_enable off',
    'shutdown_lifetime 1 seconds', 'visible_hostname bench-squid', 'max_filedescriptors 8192', 'via off',
    'icap_enable on', 'icap_preview_enable on', 'icap_persistent_connections on',
    `icap_service av reqmod_precache icap://127.0.0.1:${icapPort}/virus_scan bypass=off`,
    'adaptation_access av allow all', '',
  ].join('\n'));
  // Started as root, squid runs as its cache_effective_user (Debian: proxy), which must write here.
  if (process.getuid?.() === 0) {
    const uid = Number(spawnSync('id', ['-u', 'proxy']).stdout.toString());
    const gid = Number(spawnSync('id', ['-g', 'proxy']).stdout.toString());
    chownSync(dir, uid, gid);
  }
  const squid = start('/usr/sbin/squid', ['-N', '-f', join(dir, 'squid.conf')], {});
  await waitFor(`http://127.0.0.1:${port}/`);
  return { port, pids: { squid: squid.pid as number, 'c-icap': icap.pid as number } };
}

/** Ends c-icap's process group and removes the temp dirs; nginx and squid are harness children. */
export async function stopPeers(): Promise<void> {
  await Promise.all(groups.map(async (g) => {
    if (g.exitCode !== null || g.signalCode !== null) return;
    const exited = new Promise((r) => g.once('exit', r));
    try {
      process.kill(-(g.pid as number), 'SIGTERM');
    } catch {
      return; // already gone
    }
    await exited;
  }));
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
}
