/** A real HTTP upstream for buffer tests: records every request (decoded), answers as a per-request policy says. */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { gunzipSync } from 'node:zlib';
import type { AddressInfo, Socket } from 'node:net';
import { snappyDecompress } from '../../buffer/snappy.ts';

export interface Received {
  key: string | undefined;
  contentType: string | undefined;
  contentEncoding: string | undefined;
  /** Body as sent (wire bytes). */
  raw: Buffer;
  /** Body after undoing gzip/snappy. */
  body: Buffer;
  /** Status the receiver answered. */
  status: number;
}

/** What to do with request number `n` (0-based): a status, 'reset' (destroy the socket), or { status, delayMs, headers }. */
export type Policy = (n: number, req: IncomingMessage) => number | 'reset' | { status: number; delayMs?: number; headers?: Record<string, string> };

export interface Receiver {
  url: string;
  port: number;
  received: Received[];
  /** Accepted (2xx) requests only. */
  accepted(): Received[];
  setPolicy(p: Policy): void;
  close(): Promise<void>;
}

function decode(enc: string | undefined, raw: Buffer): Buffer {
  if (enc === 'gzip') return gunzipSync(raw);
  if (enc === 'snappy') return snappyDecompress(raw);
  return raw;
}

export async function startReceiver(policy: Policy = () => 204, path = '/ingest'): Promise<Receiver> {
  let current = policy;
  let n = 0;
  const received: Received[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const action = current(n++, req);
      if (action === 'reset') {
        req.socket.destroy();
        return;
      }
      const a = typeof action === 'number' ? { status: action } : action;
      const reply = (): void => {
        const enc = req.headers['content-encoding'];
        received.push({
          key: req.headers['idempotency-key'] as string | undefined,
          contentType: req.headers['content-type'],
          contentEncoding: enc,
          raw,
          body: a.status < 300 ? decode(enc, raw) : raw,
          status: a.status,
        });
        res.writeHead(a.status, a.headers ?? {});
        res.end();
      };
      if (a.delayMs) setTimeout(reply, a.delayMs).unref();
      else reply();
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}${path}`,
    port,
    received,
    accepted: () => received.filter((r) => r.status >= 200 && r.status < 300),
    setPolicy: (p) => {
      current = p;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
