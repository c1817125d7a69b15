/** Sends sealed batches upstream over a keep-alive undici Pool per sink (the Uplink sender port and its real adapter). */
import { Pool } from 'undici';
import type { SinkConfig } from '../agent/config/buffer.ts';
import { RotatingDispatcher } from '../agent/base/dispatcher-pool.ts';
import { defaultContentType, protocolHeaders } from './protocols.ts';
import type { SealedBatch } from './types.ts';

/** Result of one attempt: the HTTP status, or null when no answer came (connect error, reset, timeout). */
export interface SendOutcome {
  status: number | null;
  retryAfter?: string;
  error?: string;
}

/** Port: how the forwarder reaches an upstream. */
export interface BatchSender {
  send(batch: SealedBatch, signal?: AbortSignal): Promise<SendOutcome>;
  /** The active uplink changed: open new connections for the next requests (in-flight ones finish or are retried). */
  reconnect?(): void;
  close(): Promise<void>;
}

export interface SenderTimeouts {
  connectMs: number;
  headersMs: number;
  bodyMs: number;
}

/** Connections per sink: two lets a canary or a large batch not block the next one on reconnect. */
const POOL_CONNECTIONS = 2;
/** Idle keep-alive: long enough to reuse the connection between paced batches. */
const KEEPALIVE_MS = 30_000;
/** Upstream answers are only read for diagnostics; cap what is buffered. */
const MAX_RESPONSE_BYTES = 64 * 1024;

export class UndiciSender implements BatchSender {
  readonly #pool: RotatingDispatcher<Pool>;
  readonly #path: string;
  readonly #headers: Record<string, string>;
  readonly #sink: SinkConfig;

  constructor(sink: SinkConfig, resolvedHeaders: Record<string, string>, t: SenderTimeouts) {
    const url = new URL(sink.url);
    this.#sink = sink;
    this.#path = url.pathname + url.search;
    this.#headers = { ...protocolHeaders(sink.protocol), ...resolvedHeaders };
    this.#pool = new RotatingDispatcher(
      () =>
        new Pool(url.origin, {
          connections: POOL_CONNECTIONS,
          keepAliveTimeout: KEEPALIVE_MS,
          connectTimeout: t.connectMs,
          headersTimeout: t.headersMs,
          bodyTimeout: t.bodyMs,
        }),
    );
  }

  reconnect(): void {
    this.#pool.rotate();
  }

  async send(batch: SealedBatch, signal?: AbortSignal): Promise<SendOutcome> {
    const headers: Record<string, string> = {
      ...this.#headers,
      'content-type': batch.contentType ?? defaultContentType(this.#sink.protocol),
      'idempotency-key': batch.id,
    };
    if (batch.contentEncoding) headers['content-encoding'] = batch.contentEncoding;
    try {
      const res = await this.#pool.current.request({
        path: this.#path,
        method: 'POST',
        headers,
        body: Buffer.from(batch.body.buffer, batch.body.byteOffset, batch.body.byteLength),
        signal: signal ?? null,
      });
      const text = (await res.body.text().catch(() => '')).slice(0, MAX_RESPONSE_BYTES);
      const ra = res.headers['retry-after'];
      return {
        status: res.statusCode,
        ...(ra !== undefined ? { retryAfter: Array.isArray(ra) ? ra[0] : ra } : {}),
        ...(res.statusCode >= 300 ? { error: text.slice(0, 200) } : {}),
      };
    } catch (e) {
      return { status: null, error: (e as Error).message };
    }
  }

  async close(): Promise<void> {
    await this.#pool.close();
  }
}
