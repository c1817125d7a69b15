/** Ingest validation: what a sink's protocol certainly cannot accept is refused at once (400 with the reason), never stored. */
import { gunzipSync } from 'node:zlib';
import type { SinkProtocol } from '../agent/config/buffer.ts';
import { jsonProblem, ndjsonProblem } from './json-check.ts';
import { checkWriteRequest } from './protobuf-read.ts';
import { snappyDecompress } from './snappy.ts';

/** Largest body decompressed to check it: the ingest limit already bounds the compressed size; this bounds the expansion. */
export const CHECK_MAX_DECODED_BYTES = 64 * 1024 * 1024;

/** Media types (without parameters) each protocol accepts; a body without Content-Type gets the protocol's default. */
const ACCEPTED_TYPES: Readonly<Record<SinkProtocol, readonly string[] | null>> = {
  'prometheus-remote-write': ['application/x-protobuf'],
  'otlp-http': ['application/x-protobuf', 'application/json'],
  loki: ['application/json', 'application/x-protobuf'],
  'influx-line': ['text/plain', 'application/octet-stream'],
  ndjson: ['application/x-ndjson', 'application/jsonl', 'application/json', 'application/x-jsonlines', 'text/plain'],
  raw: null,
};

function mediaType(ct: string | null): string | null {
  if (ct === null) return null;
  return ct.split(';')[0]!.trim().toLowerCase() || null;
}

function decode(body: Uint8Array, encoding: string | null): Buffer {
  const enc = (encoding ?? '').trim().toLowerCase();
  if (enc === '' || enc === 'identity') return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (enc === 'gzip') return gunzipSync(body, { maxOutputLength: CHECK_MAX_DECODED_BYTES });
  if (enc === 'snappy') return snappyDecompress(body);
  throw new Error(`unsupported Content-Encoding "${encoding}" (identity, gzip or snappy)`);
}

function checkJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new Error(`${what} is not valid JSON: ${(e as Error).message}`);
  }
}

/**
 * Returns why `body` cannot be delivered to a sink of `protocol` (null: fine). Checks the content type, that the
 * encoding decodes, and the payload shape the protocol needs: JSON is valid (ndjson per line and OTLP JSON, checked on
 * the bytes without building values; Loki JSON parsed, as it needs `streams`), remote write decodes as a WriteRequest, Influx lines are UTF-8. OTLP protobuf and raw are not inspected.
 */
export function payloadProblem(protocol: SinkProtocol, contentType: string | null, contentEncoding: string | null, body: Uint8Array): string | null {
  const type = mediaType(contentType);
  const accepted = ACCEPTED_TYPES[protocol];
  if (accepted !== null && type !== null && !accepted.includes(type))
    return `Content-Type "${type}" is not accepted by a ${protocol} sink (use ${accepted.join(' or ')})`;
  if (protocol === 'raw') return null;
  let data: Buffer;
  try {
    data = decode(body, contentEncoding);
  } catch (e) {
    return `body does not decode as Content-Encoding "${contentEncoding}": ${(e as Error).message}`;
  }
  try {
    switch (protocol) {
      case 'prometheus-remote-write':
        if (checkWriteRequest(data) === 0) return 'remote-write WriteRequest holds no timeseries';
        return null;
      case 'ndjson':
        return ndjsonProblem(data);
      case 'otlp-http': {
        if ((type ?? 'application/x-protobuf') !== 'application/json') return null;
        const p = jsonProblem(data);
        return p === null ? null : `OTLP JSON body is not valid JSON: ${p}`;
      }
      case 'loki': {
        if ((type ?? 'application/json') !== 'application/json') return null;
        const v = checkJson(data.toString('utf8'), 'Loki push body') as { streams?: unknown } | null;
        return Array.isArray(v?.streams) ? null : 'Loki push body has no "streams" array';
      }
      case 'influx-line':
        new TextDecoder('utf-8', { fatal: true }).decode(data);
        return null;
    }
  } catch (e) {
    return (e as Error).message;
  }
}
