/** Reads a request body: bounded, no copy when it arrived in one chunk, settles when the client goes away, optional backpressure. */
import type { IncomingMessage } from 'node:http';
import { LwError } from './errors.ts';

const EMPTY = Buffer.alloc(0);

/** Lets a caller bound memory across requests: `cover(total)` returns a promise when reading must pause until room exists. */
export interface BodyRoom {
  cover(total: number): Promise<void> | null;
}

/**
 * Node hands each body chunk over as its own exact-size Buffer, so a body that came in one chunk (any small
 * record) is kept as it is instead of being copied again. The promise also settles when the connection closed
 * before the body was complete — possibly while the request waited for room, before anyone listened — so a
 * vanished client never keeps what it reserved. With `room`, reading pauses whenever the body outgrows it.
 * Rejects with LW_HTTP_BODY_TOO_LARGE (caller answers 413) or LW_HTTP_CLIENT_GONE (nobody left to answer).
 */
export function readBody(req: IncomingMessage, maxBytes: number, room: BodyRoom | null = null): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const tooLarge = (what: string): LwError => new LwError('LW_HTTP_BODY_TOO_LARGE', `${what} exceeds the limit of ${maxBytes} bytes`);
    const gone = (cause?: unknown): LwError => new LwError('LW_HTTP_CLIENT_GONE', 'client closed the connection before sending the whole body', { cause });
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
      const wait = room?.cover(size);
      if (wait) {
        req.pause();
        void wait.then(() => {
          if (!settled) req.resume();
        });
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
