/** Upstream for the pacing lab (runs in namespace b): answers 204 and prints its interface's rx byte counter every 50 ms. */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const host = process.env.LISTEN_HOST ?? '0.0.0.0';
const iface = process.env.IFACE ?? '';
/** Counter sampling period: 20 samples per 1-second window. */
const SAMPLE_MS = 50;

const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.statusCode = 204;
    res.end();
  });
});
server.listen(0, host, () => {
  const port = (server.address() as { port: number }).port;
  process.stdout.write(`READY ${port}\n`);
  setInterval(() => {
    const rx = Number(readFileSync(`/sys/class/net/${iface}/statistics/rx_bytes`, 'utf8'));
    process.stdout.write(`S ${Date.now()} ${rx}\n`);
  }, SAMPLE_MS);
});
