/** Splits a child's stdout into JSON log records (pino lines); non-JSON lines are skipped. */
import type { Readable } from 'node:stream';

/** Calls `onRecord` for every complete line of `stream` that parses as a JSON object. */
export function onJsonLines(stream: Readable | null, onRecord: (rec: Record<string, unknown>) => void): void {
  let buf = '';
  stream?.on('data', (c: Buffer) => {
    buf += c.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      let rec: unknown;
      try {
        rec = JSON.parse(line);
      } catch {
        continue; // non-JSON output (e.g. a stack trace) is not a log record
      }
      if (rec !== null && typeof rec === 'object' && !Array.isArray(rec)) onRecord(rec as Record<string, unknown>);
    }
  });
}
