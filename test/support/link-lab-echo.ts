/** Lab helper (runs inside a namespace): a linkward UDP echo responder on HOST:PORT; prints "echo ready". */
import { createSocket } from 'node:dgram';
import { echoReply } from '../../probes/echo-protocol.ts';

const [host = '127.0.0.1', port = '0'] = process.argv.slice(2);
const sock = createSocket('udp4');
sock.on('message', (msg, rinfo) => {
  const reply = echoReply(msg, undefined);
  if (reply) sock.send(reply, rinfo.port, rinfo.address);
});
sock.bind(Number(port), host, () => process.stdout.write(`echo ready ${host}:${sock.address().port}\n`));
process.on('SIGTERM', () => sock.close(() => process.exit(0)));
