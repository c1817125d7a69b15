/** A real unix datagram socket acting as systemd's NOTIFY_SOCKET (python3 binds it; Node has no AF_UNIX DGRAM). */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const RECEIVER = `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("BOUND", flush=True)
while True:
    data = s.recv(65536)
    print(data.decode().replace("\\n", "\\\\n"), flush=True)
`;

export interface NotifyReceiver {
  path: string;
  messages: string[];
  /** Resolves when a message containing `text` arrives (rejects after `timeoutMs`). */
  waitFor(text: string, timeoutMs?: number): Promise<string>;
  close(): void;
}

export async function startNotifyReceiver(): Promise<NotifyReceiver> {
  const dir = mkdtempSync(join(tmpdir(), 'lw-notify-'));
  const path = join(dir, 'notify.sock');
  const child: ChildProcess = spawn('python3', ['-u', '-c', RECEIVER, path], { stdio: ['ignore', 'pipe', 'inherit'] });
  const messages: string[] = [];
  const waiters: { text: string; resolve: (m: string) => void }[] = [];
  let buf = '';
  let bound: () => void = () => {};
  const boundP = new Promise<void>((r) => (bound = r));
  child.stdout?.on('data', (c: Buffer) => {
    buf += c.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i).replace(/\\n/g, '\n');
      buf = buf.slice(i + 1);
      if (line === 'BOUND') {
        bound();
        continue;
      }
      messages.push(line);
      for (const w of waiters.filter((x) => line.includes(x.text))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  await boundP;
  return {
    path,
    messages,
    waitFor(text, timeoutMs = 10_000) {
      const hit = messages.find((m) => m.includes(text));
      if (hit) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no notify message with ${text} within ${timeoutMs} ms; got ${JSON.stringify(messages)}`)), timeoutMs);
        waiters.push({ text, resolve: (m) => (clearTimeout(t), resolve(m)) });
      });
    },
    close: () => {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
