/** Starts/stops Debian's real Prometheus as a remote-write receiver on loopback (temp storage) for buffer tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { freePort } from './buffer-victoria.ts';

export const PROMETHEUS_BINARY = '/usr/bin/prometheus';
/** Longest wait for /-/ready after start (the TSDB opens an empty dir in well under a second here). */
const START_TIMEOUT_MS = 30_000;
/** Grace before SIGKILL at stop. */
const STOP_GRACE_MS = 10_000;

export function requirePrometheus(): void {
  if (!existsSync(PROMETHEUS_BINARY)) throw new Error(`${PROMETHEUS_BINARY} missing: apt-get install -y prometheus`);
}

export class PrometheusReceiver {
  readonly dir = mkdtempSync(join(tmpdir(), 'buffer-prom-'));
  port = 0;
  #proc: ChildProcess | null = null;
  stderr = '';

  get base(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get writeUrl(): string {
    return `${this.base}/api/v1/write`;
  }

  async start(): Promise<void> {
    this.port = await freePort();
    const cfg = join(this.dir, 'prometheus.yml');
    writeFileSync(cfg, 'global: {}\nscrape_configs: []\n');
    this.#proc = spawn(
      PROMETHEUS_BINARY,
      [
        `--config.file=${cfg}`,
        `--storage.tsdb.path=${join(this.dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${this.port}`,
        '--web.enable-remote-write-receiver',
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    this.#proc.stderr!.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-8192);
    });
    const end = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (this.#proc.exitCode !== null) throw new Error(`prometheus exited: ${this.stderr}`);
      try {
        const r = await request(`${this.base}/-/ready`);
        await r.body.dump();
        if (r.statusCode === 200) return;
      } catch {
        /* not yet listening */
      }
      if (Date.now() > end) throw new Error(`prometheus did not become ready: ${this.stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Instant query; returns the first result's value (null when empty). */
  async scalar(query: string): Promise<number | null> {
    const r = await request(`${this.base}/api/v1/query?query=${encodeURIComponent(query)}`);
    const j = (await r.body.json()) as { data: { result: { value: [number, string] }[] } };
    const v = j.data.result[0]?.value[1];
    return v === undefined ? null : Number(v);
  }

  /** Raw samples of a series selector over `range` (e.g. "4h"): timestamp ms → value. */
  async samples(selector: string, range: string): Promise<Map<number, number>> {
    const r = await request(`${this.base}/api/v1/query?query=${encodeURIComponent(`${selector}[${range}]`)}`);
    const j = (await r.body.json()) as { data: { result: { values: [number, string][] }[] } };
    const out = new Map<number, number>();
    for (const s of j.data.result) for (const [t, v] of s.values) out.set(Math.round(t * 1000), Number(v));
    return out;
  }

  async stop(): Promise<void> {
    const p = this.#proc;
    this.#proc = null;
    if (p && p.exitCode === null) {
      const exited = new Promise<void>((r) => p.once('exit', () => r()));
      p.kill('SIGTERM');
      const t = setTimeout(() => p.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(t);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
