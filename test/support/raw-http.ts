/** A raw HTTP/1.1 client for tests that need exact bytes on one socket: pipelining, split writes, odd framing. */
import { connect, type Socket } from 'node:net';

export interface RawResponse {
  status: number;
  /** Lower-case names; the last value when repeated. */
  headers: Record<string, string>;
  body: string;
}

/** One connection: `send` writes bytes as given, `next` resolves with the next whole response (Content-Length framed). */
export class RawConnection {
  readonly socket: Socket;
  #buf = Buffer.alloc(0);
  #wake: (() => void) | null = null;
  closed = false;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (c: Buffer) => {
      this.#buf = Buffer.concat([this.#buf, c]);
      this.#wake?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.#wake?.();
    });
    socket.on('error', () => {});
  }

  static open(address: string): Promise<RawConnection> {
    const i = address.lastIndexOf(':');
    return new Promise((resolve, reject) => {
      const s = connect({ host: address.slice(0, i), port: Number(address.slice(i + 1)) }, () => resolve(new RawConnection(s)));
      s.once('error', reject);
    });
  }

  send(bytes: string | Buffer): void {
    this.socket.write(bytes);
  }

  /** The next response, or null once the server closed the connection without one (within `timeoutMs`). */
  async next(timeoutMs = 5_000): Promise<RawResponse | null> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const r = this.#take();
      if (r !== null) return r;
      if (this.closed) return null;
      if (Date.now() > end) throw new Error(`no whole response within ${timeoutMs} ms; have ${JSON.stringify(this.#buf.toString('latin1'))}`);
      await new Promise<void>((wake) => {
        this.#wake = wake;
        setTimeout(wake, 50);
      });
    }
  }

  /** Waits for the server to close the connection (true) or gives up after `timeoutMs` (false). */
  async waitClosed(timeoutMs: number): Promise<boolean> {
    const end = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    return this.closed;
  }

  close(): void {
    this.socket.destroy();
  }

  #take(): RawResponse | null {
    const headEnd = this.#buf.indexOf('\r\n\r\n');
    if (headEnd < 0) return null;
    const lines = this.#buf.toString('latin1', 0, headEnd).split('\r\n');
    const headers: Record<string, string> = {};
    for (const l of lines.slice(1)) {
      const c = l.indexOf(':');
      headers[l.slice(0, c).trim().toLowerCase()] = l.slice(c + 1).trim();
    }
    const length = Number(headers['content-length'] ?? 0);
    if (this.#buf.length < headEnd + 4 + length) return null;
    const body = this.#buf.toString('utf8', headEnd + 4, headEnd + 4 + length);
    this.#buf = this.#buf.subarray(headEnd + 4 + length);
    return { status: Number(lines[0]!.split(' ')[1]), headers, body };
  }
}

/** A POST with Content-Length as most clients send it (one write), `extra` header lines included verbatim. */
export function rawPost(path: string, body: string, extra = ''): string {
  return `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-ndjson\r\n${extra}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}
