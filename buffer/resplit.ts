/** Dead-letter replay: a refused merged batch is cut back into the records it held, so a replay bisects again. */
import { gunzipSync } from 'node:zlib';
import type { SinkProtocol } from '../agent/config/buffer.ts';
import { pbFields } from './protobuf-read.ts';
import { snappyDecompress } from './snappy.ts';
import type { DeadLetter } from './types.ts';

/** One record body to put back into the queue. */
export interface ReplayBody {
  contentType: string | null;
  contentEncoding: string | null;
  body: Uint8Array;
}

function asIs(d: DeadLetter): ReplayBody[] {
  return [{ contentType: d.contentType, contentEncoding: d.contentEncoding, body: d.body }];
}

function decoded(d: DeadLetter): Buffer | null {
  const enc = d.contentEncoding ?? '';
  const b = Buffer.from(d.body.buffer, d.body.byteOffset, d.body.byteLength);
  if (enc === '' || enc === 'identity') return b;
  if (enc === 'gzip') return gunzipSync(b);
  if (enc === 'snappy') return snappyDecompress(b);
  return null;
}

/**
 * The records a dead letter stands for: remote write → one WriteRequest per timeseries (metadata rides with the
 * first); ndjson / Influx → one record per line. Uncompressed, so the sealer may merge and bisect them again.
 * Other protocols were sent one record per request: the body goes back as it is. Undecodable bodies too.
 */
export function replayBodies(protocol: SinkProtocol, d: DeadLetter): ReplayBody[] {
  try {
    if (protocol === 'prometheus-remote-write') {
      const data = decoded(d);
      if (data === null) return asIs(d);
      const fs = pbFields(data);
      const series = fs.filter((f) => f.field === 1);
      const rest = fs.filter((f) => f.field !== 1).map((f) => data.subarray(f.start, f.end));
      if (series.length <= 1) return [{ contentType: d.contentType, contentEncoding: null, body: data }];
      return series.map((f, i) => ({
        contentType: d.contentType,
        contentEncoding: null,
        body: Buffer.concat([data.subarray(f.start, f.end), ...(i === 0 ? rest : [])]),
      }));
    }
    if (protocol === 'ndjson' || protocol === 'influx-line') {
      const data = decoded(d);
      if (data === null) return asIs(d);
      const lines = data
        .toString('utf8')
        .split('\n')
        .filter((l) => l.trim() !== '');
      if (lines.length === 0) return asIs(d);
      return lines.map((l) => ({ contentType: d.contentType, contentEncoding: null, body: Buffer.from(`${l}\n`) }));
    }
  } catch {
    return asIs(d);
  }
  return asIs(d);
}
