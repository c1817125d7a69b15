/** Starts/stops a real VictoriaMetrics (Debian package victoria-metrics) on loopback for buffer tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { request } from 'undici';

export const VM_BINARY = '/usr/bin/victoria-metrics';
/** Longest wait for VictoriaMetrics to answer /health after start. */
const START_TIMEOUT_MS = 20_000;

export function requireVictoriaMetrics(): void {
  if (!existsSync(VM_BINARY)) throw new Error(`${VM_BINARY} missing: apt-get install -y victoria-metrics`);
}

/** A free loopback port (bound and released), so VictoriaMetrics can be restarted on the same address. */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export class Victoria {
  readonly port: number;
  readonly dataDir: string;
  #proc: ChildProcess | null = null;

  constructor(port: number, dataDir: string) {
    this.port = port;
    this.dataDir = dataDir;
  }

  get base(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.#proc = spawn(
      VM_BINARY,
      [`-storageDataPath=${this.dataDir}`, `-httpListenAddr=127.0.0.1:${this.port}`, '-retentionPeriod=100y', '-loggerLevel=ERROR', '-search.latencyOffset=0s'],
      { stdio: 'ignore' },
    );
    const end = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      try {
        const r = await request(`${this.base}/health`);
        const text = await r.body.text();
        if (r.statusCode === 200 && text.includes('OK')) return;
      } catch {
        /* not yet listening */
      }
      if (Date.now() > end) throw new Error('victoria-metrics did not become healthy');
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async stop(): Promise<void> {
    const p = this.#proc;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill('SIGTERM');
    const t = setTimeout(() => p.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(t);
    this.#proc = null;
  }

  /** All raw samples of a metric: timestamp (ms) → value. */
  async export(metric: string): Promise<Map<number, number>> {
    await (await request(`${this.base}/internal/force_flush`)).body.dump();
    const r = await request(`${this.base}/api/v1/export?match[]=${encodeURIComponent(`{__name__="${metric}"}`)}`);
    const out = new Map<number, number>();
    for (const line of (await r.body.text()).split('\n')) {
      if (!line.trim()) continue;
      const s = JSON.parse(line) as { values: number[]; timestamps: number[] };
      s.timestamps.forEach((ts, i) => out.set(ts, s.values[i]!));
    }
    return out;
  }
}
