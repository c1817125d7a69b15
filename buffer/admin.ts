/** Admin routes behind `linkward buffer ...`: stats, records, flush, dead letters, replay, purge (all token-protected). */
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { HttpRoute } from '../agent/runtime/component.ts';
import { readBody, sendError, sendJson } from '../agent/base/http-respond.ts';
import { backlogWarnings } from './backlog-age.ts';
import { PRIORITY_NAMES } from '../agent/config/buffer.ts';
import type { BufferService } from './service.ts';

/** Largest admin request body (a JSON list of dead-letter ids). */
const ADMIN_BODY_MAX_BYTES = 64 * 1024;
/** Default and largest page of `list` / `dead-letters`. */
const LIST_DEFAULT = 50;
const LIST_MAX = 1_000;
/** Bytes of each body shown in listings (the rest is elided). */
const PREVIEW_BYTES = 120;

const prio = (p: number): string => PRIORITY_NAMES[p] ?? String(p);

function preview(body: Uint8Array, encoding: string | null): string {
  const b = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const printable = encoding === null && !b.subarray(0, PREVIEW_BYTES).some((c) => c < 9 || (c > 13 && c < 32));
  return printable ? b.subarray(0, PREVIEW_BYTES).toString('utf8') : `<${b.length} bytes${encoding ? ` ${encoding}` : ''}>`;
}

function limitOf(url: URL): number {
  const n = Number(url.searchParams.get('limit') ?? LIST_DEFAULT);
  return Number.isInteger(n) && n > 0 ? Math.min(n, LIST_MAX) : LIST_DEFAULT;
}

async function jsonBody(req: Parameters<HttpRoute['handle']>[0]): Promise<Record<string, unknown>> {
  const raw = await readBody(req, ADMIN_BODY_MAX_BYTES);
  if (raw.length === 0) return {};
  const v = JSON.parse(raw.toString('utf8')) as unknown;
  return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {};
}

/** Stats document shared by the route and the component status. */
export function bufferStats(svc: BufferService, nowMs: number): Record<string, unknown> {
  const store = svc.store;
  return {
    available: svc.unavailable === null,
    ...(svc.unavailable ? { error: svc.unavailable } : {}),
    ...(svc.movedAside ? { corruptFileMovedTo: svc.movedAside } : {}),
    ...(svc.recovery && svc.recovery.losses.length > 0 ? { lostRecords: svc.recovery.losses } : {}),
    ...(svc.recovery?.salvaged ? { salvaged: svc.recovery.salvaged } : {}),
    ...(svc.lastClockStep ? { clockStep: svc.lastClockStep } : {}),
    usage: store?.usage() ?? { records: 0, bytes: 0 },
    gate: svc.gate(),
    lanes: (store?.depth() ?? []).map((d) => ({
      sink: d.sink,
      priority: prio(d.priority),
      records: d.records,
      bytes: d.bytes,
      oldestAgeSeconds: d.oldestMs === null ? null : Math.max(0, (nowMs - d.oldestMs) / 1000),
    })),
    sinks: [...svc.forwarders.values()].map((f) => f.status()),
    deadLetters: store?.deadLetterCount() ?? 0,
    backlogWarnings: backlogWarnings(store?.depth() ?? [], svc.sinks, nowMs),
  };
}

export function adminRoutes(svc: BufferService, nowMs: () => number): HttpRoute[] {
  const need = (res: Parameters<HttpRoute['handle']>[1]): boolean => {
    if (svc.store) return true;
    sendError(res, 503, 'LW_BUFFER_UNAVAILABLE', svc.unavailable ?? 'telemetry buffer not open');
    return false;
  };
  return [
    { method: 'GET', path: '/v1/buffer/stats', auth: 'token', handle: (_q, res) => sendJson(res, 200, bufferStats(svc, nowMs())) },
    {
      method: 'GET',
      path: '/v1/buffer/records',
      auth: 'token',
      handle: (_q, res, url) => {
        if (!need(res)) return;
        const recs = svc.store!.listRecords(url.searchParams.get('sink'), limitOf(url));
        sendJson(res, 200, {
          records: recs.map((r) => ({
            id: r.id,
            sink: r.sink,
            priority: prio(r.priority),
            createdMs: r.createdMs,
            expiresMs: r.expiresMs,
            contentType: r.contentType,
            contentEncoding: r.contentEncoding,
            bytes: r.body.byteLength,
            batchId: r.batchId,
            preview: preview(r.body, r.contentEncoding),
          })),
        });
      },
    },
    {
      method: 'GET',
      path: '/v1/buffer/dead-letters',
      auth: 'token',
      handle: (_q, res, url) => {
        if (!need(res)) return;
        sendJson(res, 200, {
          deadLetters: svc.store!.listDeadLetters(limitOf(url)).map((d) => ({
            id: d.id,
            sink: d.sink,
            priority: prio(d.priority),
            failedMs: d.failedMs,
            status: d.status,
            reason: d.reason,
            records: d.recordCount,
            bytes: d.body.byteLength,
            preview: preview(d.body, d.contentEncoding),
          })),
        });
      },
    },
    {
      method: 'POST',
      path: '/v1/buffer/flush',
      auth: 'token',
      handle: async (req, res) => {
        const b = await jsonBody(req);
        const sink = typeof b.sink === 'string' ? b.sink : null;
        if (sink !== null && !svc.sinks.has(sink)) return sendError(res, 404, 'LW_BUFFER_UNKNOWN_SINK', `no sink named "${sink}"`);
        sendJson(res, 200, { flushed: svc.flush(sink, b.force === true) });
      },
    },
    {
      method: 'POST',
      path: '/v1/buffer/replay',
      auth: 'token',
      handle: async (req, res) => {
        if (!need(res)) return;
        const b = await jsonBody(req);
        const ids = Array.isArray(b.ids) ? b.ids.filter((x): x is string => typeof x === 'string') : null;
        const r = svc.replay(ids, nowMs());
        sendJson(res, 200, { replayed: r.deadLetters, records: r.records });
      },
    },
    {
      method: 'POST',
      path: '/v1/buffer/salvage',
      auth: 'token',
      handle: async (req, res) => {
        if (!need(res)) return;
        if (!svc.recovery) return sendError(res, 503, 'LW_BUFFER_UNAVAILABLE', 'salvage needs the SQLite buffer');
        const b = await jsonBody(req);
        const file = typeof b.file === 'string' ? b.file : '';
        if (!isAbsolute(file)) return sendError(res, 400, 'LW_BUFFER_SALVAGE_PATH', 'give the absolute path of the damaged buffer file');
        if (resolve(file) === svc.livePath) return sendError(res, 400, 'LW_BUFFER_SALVAGE_PATH', `${file} is the live buffer file`);
        if (!existsSync(file)) return sendError(res, 404, 'LW_BUFFER_SALVAGE_PATH', `${file} does not exist (on the daemon's host)`);
        sendJson(res, 200, svc.recovery.salvage(file));
      },
    },
    {
      method: 'POST',
      path: '/v1/buffer/purge',
      auth: 'token',
      handle: async (req, res) => {
        if (!need(res)) return;
        const b = await jsonBody(req);
        const sink = typeof b.sink === 'string' ? b.sink : null;
        const before = svc.store!.depth();
        const out = svc.store!.purge({ sink, records: b.records !== false, deadLetters: b.deadLetters === true });
        for (const d of before) if (b.records !== false && (sink === null || sink === d.sink)) svc.countDrop(d.sink, 'purged', d.records, d.bytes);
        sendJson(res, 200, out);
      },
    },
  ];
}
