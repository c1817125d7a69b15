/** Small HTTP helpers shared by every route: JSON responses, bounded body reading, errors with codes. */
import type { ServerResponse } from 'node:http';
import type { LwCode } from '../base/error-codes.ts';

/** Writes a JSON response (pretty when `?pretty` is in the URL is left to callers). */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** Writes a plain-text response. */
export function sendText(res: ServerResponse, status: number, text: string, contentType = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Error body shape of every non-2xx JSON answer: `{ error: { code, message } }`. */
export function errorBody(code: string, message: string, extra: Record<string, unknown> = {}): { error: Record<string, unknown> } {
  return { error: { code, message, ...extra } };
}

export function sendError(res: ServerResponse, status: number, code: LwCode, message: string, extra: Record<string, unknown> = {}): void {
  sendJson(res, status, errorBody(code, message, extra));
}

export { readBody } from './http-body.ts';
