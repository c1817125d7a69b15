/** Reads one ingest body: bounded, one promise per request, no copy when it arrived in one chunk. */
import type { IncomingMessage } from 'node:http';
import { LwError } from '../agent/errors.ts';
import { BufferError } from './errors.ts';
import type { Lease } from './inflight.ts';

const EMPTY = Buffer.alloc(0);

/**
 * Like readBody (agent/http/respond.ts), for the ingest hot path: Node hands each body chunk over as its own
 * exact-size Buffer, so a body that came in one chunk (any small record) is kept as it is instead of being copied
 * again. It also settles when the connection closed before the body was complete — possibly while the request
 * waited for room in the in-flight budget, before anyone listened — so a vanished client never keeps its lease.
 * With a `lease`, reading pauses whenever the body outgrows it until the budget has room (bodies without Content-Length).
 * Rejects with LW_BUFFER_TOO_LARGE (answer 413) or LW_BUFFER_CLIENT_GONE (nobody left to answer).
 */
export function readIngestBody(req: IncomingMessage, maxBytes: number, lease: Lease | null = null): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const tooLarge = (what: string): LwError => new LwError(BufferError.TOO_LARGE, `${what} exceeds buffer.maxRecordBytes (${maxBytes} bytes)`);
    const gone = (cause?: unknown): LwError => new LwError(BufferError.CLIENT_GONE, 'client closed the connection before sending the whole body', { cause });
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > maxBytes) {
      req.resume();
      reject(tooLarge(`body of ${declared} bytes`));
      return;
    }
    if (req.destroyed) {
      reject(gone());
      return;
    }
    let first: Buffer | null = null;
    let chunks: Buffer[] | null = null;
    let size = 0;
    let settled = false;
    const done = (): void => {
      settled = true;
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (c: Buffer): void => {
      size += c.length;
      if (size > maxBytes) {
        done();
        req.resume();
        reject(tooLarge('body'));
        return;
      }
      if (first === null) first = c;
      else (chunks ??= [first]).push(c);
      const room = lease?.cover(size);
      if (room) {
        req.pause();
        void room.then(() => { if (!settled) req.resume(); });
      }
    };
    const onEnd = (): void => {
      done();
      resolve(chunks !== null ? Buffer.concat(chunks, size) : (first ?? EMPTY));
    };
    // An aborted request is destroyed with an error ('aborted', ECONNRESET), then closed: either way the client is gone.
    const onError = (e: Error): void => {
      done();
      reject(gone(e));
    };
    const onClose = (): void => {
      if (req.complete) return; // 'end' follows (or came first); nothing lost
      done();
      reject(gone());
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}
