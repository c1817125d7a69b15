/** Misbehaving peers for the stop-time tests: a blackholed port, a silent server, a slow sink, a slow speed-test server. */
import { spawn } from 'node:child_process';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, createServer, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';

export interface Peer {
  port: number;
  close(): Promise<void>;
}

/** Accept queue of the blackhole's listener (listen(2) backlog); Linux queues backlog + 1 connections, then drops SYNs. */
const BLACKHOLE_BACKLOG = 1;
/** Our own connections that fill that queue (backlog + 1), so every later connect gets no SYN-ACK at all. */
const BLACKHOLE_FILLERS = BLACKHOLE_BACKLOG + 1;

/**
 * A loopback port that behaves like an unreachable host: SYNs get no answer, a connect stays in SYN_SENT until the
 * caller gives up. A listener in a child whose event loop is blocked never accepts; once its accept queue is full the
 * kernel drops further SYNs (no RST, unlike a closed port, and no handshake, unlike a silent server). No root needed.
 */
export async function startBlackhole(): Promise<Peer> {
  const src = `const s=require('node:net').createServer();s.listen({port:0,host:'127.0.0.1',backlog:${BLACKHOLE_BACKLOG}},()=>{require('node:fs').writeSync(1,s.address().port+'\\n');Atomics.wait(new Int32Array(new SharedArrayBuffer(4)),0,0);});`;
  const child = spawn(process.execPath, ['-e', src], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((res, rej) => {
    child.stdout.once('data', (d: Buffer) => res(Number(d.toString().trim())));
    child.once('exit', (code) => rej(new Error(`blackhole listener exited (${code})`)));
  });
  const fillers: Socket[] = [];
  for (let i = 0; i < BLACKHOLE_FILLERS; i++) {
    const s = connect(port, '127.0.0.1');
    s.on('error', () => {});
    await new Promise<void>((res, rej) => {
      s.once('connect', res);
      s.once('error', rej);
    });
    fillers.push(s);
  }
  return {
    port,
    close: async () => {
      for (const s of fillers) s.destroy();
      child.kill('SIGKILL');
    },
  };
}

/** TCP sockets in SYN_SENT (state 02 in /proc/net/tcp) towards `port` on this machine's loopback. */
export function synSentTo(port: number): number {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  return readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .slice(1)
    .filter((l) => {
      const f = l.trim().split(/\s+/);
      return f[2]?.endsWith(`:${hex}`) && f[3] === '02';
    }).length;
}

/** A TCP server that accepts and never writes a byte: every request to it hangs until the client gives up. `requests` holds the first line each connection sent. */
export async function startSilentServer(): Promise<Peer & { accepted(): number; requests: string[] }> {
  const sockets = new Set<Socket>();
  const requests: string[] = [];
  let accepted = 0;
  const srv = createServer((s) => {
    accepted++;
    sockets.add(s);
    s.once('data', (d: Buffer) => requests.push(d.toString('latin1').split('\r\n')[0] ?? ''));
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((res) => srv.listen(0, '127.0.0.1', res));
  return {
    port: (srv.address() as { port: number }).port,
    accepted: () => accepted,
    requests,
    close: async () => {
      for (const s of sockets) s.destroy();
      srv.close();
    },
  };
}

/** An HTTP server whose handler decides per request; closes every socket on close. */
async function httpPeer(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Peer> {
  const sockets = new Set<Socket>();
  const srv = createHttpServer(handler);
  srv.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((res) => srv.listen(0, '127.0.0.1', res));
  return {
    port: (srv.address() as { port: number }).port,
    close: () =>
      new Promise<void>((res) => {
        for (const s of sockets) s.destroy();
        srv.close(() => res());
      }),
  };
}

/** Record ids (`{"id":…}` lines) of an NDJSON body. */
export function idsOf(body: string): string[] {
  return body
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => String((JSON.parse(l) as { id: unknown }).id));
}

/**
 * An NDJSON sink that answers 204 `delayMs` after each request. `delivered` holds the ids of requests it answered
 * while the client was still connected (what the agent may have seen acknowledged); `inFlight` counts requests read
 * and not yet answered.
 */
export async function startSlowSink(delayMs: number): Promise<Peer & { delivered: Set<string>; requests(): number; inFlight(): number }> {
  const delivered = new Set<string>();
  let requests = 0;
  let waiting = 0;
  const peer = await httpPeer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests++;
      waiting++;
      setTimeout(() => {
        waiting--;
        if (req.socket.destroyed) return;
        for (const id of idsOf(Buffer.concat(chunks).toString())) delivered.add(id);
        res.writeHead(204).end();
      }, delayMs).unref();
    });
  });
  return { ...peer, delivered, requests: () => requests, inFlight: () => waiting };
}

/** Gap between the chunks a slow speed-test server sends: a few KB/s, so a download never completes on its own. */
const TRICKLE_INTERVAL_MS = 100;
const TRICKLE_CHUNK_BYTES = 1024;

/** A speed-test server (linkward preset) that trickles downloads and never reads uploads; reports what it saw. */
export async function startSlowProbeServer(): Promise<Peer & { paths: string[]; streamingMs(): number }> {
  const paths: string[] = [];
  let firstByteAt = 0;
  const peer = await httpPeer((req, res) => {
    paths.push(`${req.method} ${req.url}`);
    if (req.method === 'GET' && req.url?.includes('/down')) {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      if (firstByteAt === 0) firstByteAt = performance.now();
      const timer = setInterval(() => res.write(Buffer.alloc(TRICKLE_CHUNK_BYTES)), TRICKLE_INTERVAL_MS);
      res.on('close', () => clearInterval(timer));
      return;
    }
    req.pause(); // uploads: never read, the sender's window fills and it stalls
  });
  return { ...peer, paths, streamingMs: () => (firstByteAt === 0 ? 0 : performance.now() - firstByteAt) };
}
