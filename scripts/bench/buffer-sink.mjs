// Receiver child for bench:buffer — answers 204 to every POST and reports bytes/requests on SIGTERM.
import { createServer } from 'node:http';

let requests = 0;
let bytes = 0;
const server = createServer((req, res) => {
  req.on('data', (c) => {
    bytes += c.length;
  });
  req.on('end', () => {
    requests++;
    res.writeHead(204);
    res.end();
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`READY ${/** @type {import('node:net').AddressInfo} */ (server.address()).port}\n`));
process.on('SIGTERM', () => {
  process.stdout.write(JSON.stringify({ requests, bytes }) + '\n');
  process.exit(0);
});
