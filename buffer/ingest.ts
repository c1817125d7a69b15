/** HTTP ingest route POST /v1/ingest/{sink}: body kept byte for byte, 202 only after a durable commit, bodies in memory bounded. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../agent/base/clock.ts';
import type { FastAnswer, FastRequest, HttpRoute } from '../agent/runtime/component.ts';
import { isLwError, messageOf } from '../agent/base/errors.ts';
import { errorBody, readBody, sendError, sendJson } from '../agent/base/http-respond.ts';
import { PRIORITY_RANK, type PriorityClass, type SinkConfig } from '../agent/config/buffer.ts';
import { BufferError } from './errors.ts';
import type { ByteBudget } from './inflight.ts';
import { payloadProblem } from './payload-check.ts';
import type { NewRecord } from './types.ts';

export const INGEST_PREFIX = '/v1/ingest/';
/** Bytes a body without Content-Length holds at first: it grows as it arrives, so a small chunked record never holds 4 MiB. */
export const CHUNKED_FIRST_BYTES = 64 * 1024;
/** Optional request header that overrides the sink's priority class for one record. */
export const PRIORITY_HEADER = 'x-linkward-priority';

export interface IngestDeps {
  sinks: ReadonlyMap<string, SinkConfig>;
  maxRecordBytes: number;
  /** Bounds the bodies held in memory across all ingest requests (buffer.maxInflightBytes). */
  inflight: ByteBudget;
  clock: Clock;
  /** Durable append (group commit); resolves with the record id. */
  append(rec: NewRecord): Promise<number>;
  /** Why ingest is unavailable (null: available). */
  unavailable(): string | null;
}

/** Builds the record a request describes (pure apart from the body). */
export function toRecord(sink: SinkConfig, headers: IncomingMessage['headers'], body: Buffer, nowMs: number): NewRecord {
  const h = headers[PRIORITY_HEADER];
  const cls = (typeof h === 'string' && Object.hasOwn(PRIORITY_RANK, h) ? h : sink.priority) as PriorityClass;
  const ct = headers['content-type'];
  const ce = headers['content-encoding'];
  return {
    sink: sink.name,
    priority: PRIORITY_RANK[cls],
    createdMs: nowMs,
    expiresMs: sink.ttlSeconds > 0 ? nowMs + sink.ttlSeconds * 1000 : null,
    contentType: ct ?? null,
    contentEncoding: ce ?? null,
    body,
  };
}

const refusal = (status: number, code: string, message: string): FastAnswer => ({ status, json: errorBody(code, message) });

/** Checks and durably stores one body; the answer both servers write (202 with the id, or the refusal with its code). */
export async function storeRecord(deps: IngestDeps, sink: SinkConfig, headers: IncomingMessage['headers'], body: Buffer): Promise<FastAnswer> {
  if (body.length === 0) return refusal(400, 'LW_BUFFER_EMPTY', 'empty body: nothing to store');
  const rec = toRecord(sink, headers, body, deps.clock.nowMs());
  const problem = payloadProblem(sink.protocol, rec.contentType, rec.contentEncoding, body);
  if (problem !== null) return refusal(400, BufferError.INVALID_PAYLOAD, `not stored: ${problem} (sink "${sink.name}" uses ${sink.protocol})`);
  try {
    return { status: 202, json: { id: await deps.append(rec) } };
  } catch (e) {
    if (isLwError(e, BufferError.FULL) || isLwError(e, BufferError.DISK_FULL)) return refusal(507, e.code, e.message);
    if (isLwError(e, BufferError.UNAVAILABLE)) return refusal(503, e.code, e.message);
    return refusal(500, 'LW_INTERNAL', messageOf(e));
  }
}

/**
 * The fast path's ingest (agent/http/fast-conn.ts): a configured sink, ingest available and room for the body at
 * once, else null and node:http serves the request through handleIngest (404, 503, waiting for room).
 */
export function fastIngest(deps: IngestDeps, req: FastRequest): Promise<FastAnswer> | null {
  const sink = deps.sinks.get(req.target.slice(INGEST_PREFIX.length));
  if (sink === undefined || deps.unavailable() !== null || req.body.length > deps.maxRecordBytes) return null;
  const lease = deps.inflight.tryAcquire(req.body.length);
  if (lease === null) return null;
  // Its own copy: the socket's read buffer is not held until the commit.
  return storeRecord(deps, sink, req.headers, Buffer.from(req.body)).finally(() => lease.release());
}

export async function handleIngest(deps: IngestDeps, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  if (req.method !== 'POST') {
    req.resume();
    return sendError(res, 405, 'LW_HTTP_METHOD', 'use POST', {});
  }
  const name = decodeURIComponent(url.pathname.slice(INGEST_PREFIX.length));
  const sink = deps.sinks.get(name);
  if (!sink) {
    req.resume();
    return sendError(res, 404, BufferError.UNKNOWN_SINK, `no sink named "${name}"; configured: ${[...deps.sinks.keys()].join(', ') || 'none'}`);
  }
  const down = deps.unavailable();
  if (down !== null) {
    req.resume();
    return sendError(res, 503, BufferError.UNAVAILABLE, down);
  }
  // Room for the body before it is read (the declared length; a chunked body starts small and grows as it arrives),
  // held until the commit ends. Bodies declared too large hold nothing: readBody refuses them at once (413).
  const declared = Number(req.headers['content-length'] ?? NaN);
  const want = Number.isFinite(declared) ? declared : Math.min(CHUNKED_FIRST_BYTES, deps.maxRecordBytes);
  const lease = declared > deps.maxRecordBytes ? null : (deps.inflight.tryAcquire(want) ?? (await deps.inflight.acquire(want)));
  try {
    let body: Buffer;
    try {
      body = await readBody(req, deps.maxRecordBytes, lease);
    } catch (e) {
      if (isLwError(e, 'LW_HTTP_CLIENT_GONE')) return; // nobody left to answer
      if (isLwError(e, 'LW_HTTP_BODY_TOO_LARGE'))
        return sendError(res, 413, BufferError.TOO_LARGE, `${e.message} (buffer.maxRecordBytes); split the payload or raise buffer.maxRecordBytes`);
      throw e;
    }
    lease?.shrink(body.length);
    const a = await storeRecord(deps, sink, req.headers, body);
    sendJson(res, a.status, a.json);
  } finally {
    lease?.release();
  }
}

/** The route as served by the agent's HTTP server (token-protected). */
export function ingestRoute(deps: IngestDeps): HttpRoute {
  return {
    method: 'POST',
    path: INGEST_PREFIX,
    prefix: true,
    auth: 'token',
    handle: (req, res, url) => handleIngest(deps, req, res, url),
    fast: (req) => fastIngest(deps, req),
  };
}
