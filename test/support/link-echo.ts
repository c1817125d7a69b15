/** A switchable linkward UDP echo responder on loopback for link tests: answers, drops, or answers late (a step change without netns). */
import { createSocket, type Socket } from 'node:dgram';
import { echoReply } from '../../probes/echo-protocol.ts';

export type EchoMode = { kind: 'ok' } | { kind: 'drop' } | { kind: 'delay'; ms: number };

export interface EchoResponder {
  port: number;
  target: string;
  set(mode: EchoMode): void;
  close(): Promise<void>;
}

export async function startEcho(): Promise<EchoResponder> {
  const sock: Socket = createSocket('udp4');
  let mode: EchoMode = { kind: 'ok' };
  const pending = new Set<NodeJS.Timeout>();
  sock.on('message', (msg, rinfo) => {
    const reply = echoReply(msg, undefined);
    if (!reply || mode.kind === 'drop') return;
    const send = (): void => sock.send(reply, rinfo.port, rinfo.address);
    if (mode.kind === 'ok') return send();
    const t = setTimeout(() => {
      pending.delete(t);
      send();
    }, mode.ms);
    pending.add(t);
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  const port = sock.address().port;
  return {
    port,
    target: `udp://127.0.0.1:${port}`,
    set(m): void {
      mode = m;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const t of pending) clearTimeout(t);
        sock.close(() => r());
      }),
  };
}
