/** Child process for crash tests: a buffer component with real SQLite in STATE_DIR, ingest on loopback, forwarding to SINK_URL. */
import { createBufferComponent } from '../../buffer/component.ts';
import { realBufferDeps } from '../../buffer/adapters.ts';
import { bufferContext } from './buffer-context.ts';
import { serveRoutes } from './buffer-http.ts';

const stateDir = process.env.STATE_DIR;
const sinkUrl = process.env.SINK_URL;
if (!stateDir || !sinkUrl) throw new Error('STATE_DIR and SINK_URL are required');
const t = bufferContext(
  {
    sinks: [{ name: 'crash', url: sinkUrl, protocol: 'ndjson', batchMaxRecords: 100 }],
    buffer: {
      retry: { baseMs: 20, capMs: 200 },
      flush: { pollMs: 50 },
      timeouts: { connectMs: 1000, headersMs: 2000, bodyMs: 2000 },
      commit: { writerThread: process.env.BUFFER_WRITER_THREAD === '1' },
    },
  },
  { stateDir },
);
const comp = createBufferComponent(t.ctx, realBufferDeps(t.ctx));
await comp.start();
if (comp.service.unavailable) throw new Error(comp.service.unavailable);
const srv = await serveRoutes(comp.routes!());
process.stdout.write(`READY ${srv.base}\n`);
