/** Per-protocol rules: which answers are retried, split or dead-lettered; which records may be merged and how. */
import type { SinkConfig, SinkProtocol } from '../agent/config/buffer.ts';

/** What to do with a batch after one send attempt. */
export type Verdict = 'ok' | 'retry' | 'split' | 'dead';

/**
 * Classifies an answer (null status = no answer: connect error, reset, timeout).
 * OTLP/HTTP: only 429/502/503/504 are retryable (spec). Remote write: 5xx MUST and 429 MAY be retried,
 * other 4xx MUST NOT. Loki and Influx follow the same rule as remote write. ndjson/raw: 408, 429, 5xx.
 */
export function classify(protocol: SinkProtocol, status: number | null): Verdict {
  if (status === null) return 'retry';
  if (status >= 200 && status < 300) return 'ok';
  if (status === 413) return 'split';
  switch (protocol) {
    case 'otlp-http':
      return status === 429 || status === 502 || status === 503 || status === 504 ? 'retry' : 'dead';
    case 'prometheus-remote-write':
    case 'loki':
    case 'influx-line':
      return status === 429 || status >= 500 ? 'retry' : 'dead';
    case 'ndjson':
    case 'raw':
      return status === 408 || status === 429 || status >= 500 ? 'retry' : 'dead';
  }
}

/** Content type used when a record came without one. */
export function defaultContentType(protocol: SinkProtocol): string {
  switch (protocol) {
    case 'prometheus-remote-write':
      return 'application/x-protobuf';
    case 'otlp-http':
      return 'application/x-protobuf';
    case 'loki':
      return 'application/json';
    case 'influx-line':
      return 'text/plain; charset=utf-8';
    case 'ndjson':
      return 'application/x-ndjson';
    case 'raw':
      return 'application/octet-stream';
  }
}

/** Extra headers a protocol requires on every request. */
export function protocolHeaders(protocol: SinkProtocol): Record<string, string> {
  if (protocol === 'prometheus-remote-write') return { 'x-prometheus-remote-write-version': '0.1.0' };
  return {};
}

/**
 * Whether records of this protocol may be merged into one request body. Line protocols join on newlines;
 * uncompressed remote-write protobufs concatenate (repeated fields of concatenated messages merge).
 * Pre-encoded bodies (gzip, snappy...) are opaque and go one per request.
 */
export function mergeable(protocol: SinkProtocol, contentEncoding: string | null): boolean {
  const identity = contentEncoding === null || contentEncoding === '' || contentEncoding === 'identity';
  if (!identity) return false;
  return protocol === 'influx-line' || protocol === 'ndjson' || protocol === 'prometheus-remote-write';
}

/** Joins record bodies of a mergeable protocol into one body. */
export function mergeBodies(protocol: SinkProtocol, bodies: readonly Uint8Array[]): Buffer {
  if (protocol === 'prometheus-remote-write') return Buffer.concat(bodies);
  const parts: Buffer[] = [];
  for (const b of bodies) {
    const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
    parts.push(buf);
    if (buf.length > 0 && buf[buf.length - 1] !== 0x0a) parts.push(Buffer.from('\n'));
  }
  return Buffer.concat(parts);
}

/** Compression applied to merged (identity) bodies before they are sealed. */
export function effectiveCompression(sink: Pick<SinkConfig, 'protocol' | 'compression'>): 'none' | 'gzip' | 'snappy' {
  if (sink.compression !== 'auto') return sink.compression;
  if (sink.protocol === 'prometheus-remote-write') return 'snappy';
  if (sink.protocol === 'influx-line' || sink.protocol === 'ndjson') return 'gzip';
  return 'none';
}
