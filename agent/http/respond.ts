/** Small HTTP helpers shared by every route: JSON responses, bounded body reading, errors with codes. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LwError } from '../errors.ts';

/** Writes a JSON response (pretty when `?pretty` is in the URL is left to callers). */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** Writes a plain-text response. */
export function sendText(res: ServerResponse, status: number, text: string, contentType = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Error body shape of every non-2xx JSON answer: `{ error: { code, message } }`. */
export function sendError(res: ServerResponse, status: number, code: string, message: string, extra: Record<string, unknown> = {}): void {
  sendJson(res, status, { error: { code, message, ...extra } });
}

/** Reads the request body up to `maxBytes`; rejects with LW_HTTP_BODY_TOO_LARGE (caller answers 413). */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (Number.isFinite(declared) && declared > maxBytes) {
      req.resume();
      reject(new LwError('LW_HTTP_BODY_TOO_LARGE', `body of ${declared} bytes exceeds the limit of ${maxBytes}`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > maxBytes) {
        req.removeAllListeners('data');
        req.resume();
        reject(new LwError('LW_HTTP_BODY_TOO_LARGE', `body exceeds the limit of ${maxBytes} bytes`));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks, size)));
    req.on('error', reject);
  });
}
