/** Agent side of the pacing lab (runs in namespace a): buffers RECORDS records, then drains them to SINK_URL, paced. */
import { randomBytes } from 'node:crypto';
import { createBufferComponent } from '../../buffer/component.ts';
import { realBufferDeps } from '../../buffer/adapters.ts';
import { bufferContext } from './buffer-context.ts';

const sinkUrl = process.env.SINK_URL!;
const uploadMbps = Number(process.env.UPLOAD_MBPS);
const records = Number(process.env.RECORDS ?? 1000);
const recordBytes = Number(process.env.RECORD_BYTES ?? 1200);
const t = bufferContext({
  sinks: [{ name: 'lab', url: sinkUrl, protocol: 'ndjson', compression: 'none' }],
  buffer: { flush: { paceFraction: Number(process.env.PACE_FRACTION ?? 0.5), pollMs: 50 } },
});
const comp = createBufferComponent(t.ctx, realBufferDeps(t.ctx));
// The measured uplink the gate paces against (what the probes would publish).
const now = Date.now();
t.ctx.bus.emit('link', {
  atMs: now,
  node: 'healthy',
  active: 'wan',
  uplinks: { wan: { name: 'wan', health: 'healthy', sinceMs: now, reasons: [], latest: { atMs: now, uploadMbps } } },
});
await comp.start();
const svc = comp.service;
const body = (i: number): Buffer => Buffer.from(`${JSON.stringify({ i, pad: randomBytes(Math.max(1, (recordBytes - 30) >> 1)).toString('hex') })}\n`);
await Promise.all(Array.from({ length: records }, (_, i) => svc.appendBody('lab', body(i), { contentType: 'application/x-ndjson' })));
const t0 = Date.now();
process.stdout.write(`STORED ${t0} ${svc.store!.usage().bytes}\n`);
while (svc.store!.usage().records > 0) await new Promise((r) => setTimeout(r, 50));
const fw = svc.forwarders.get('lab')!.status();
process.stdout.write(`DONE ${Date.now()} ${JSON.stringify({ seconds: (Date.now() - t0) / 1000, batches: fw.sentBatches })}\n`);
await comp.stop();
t.cleanup();
process.exit(0);
