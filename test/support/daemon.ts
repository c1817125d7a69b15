/** Spawns the real linkward daemon (source entry point) on a free loopback port with a temp state dir. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { onJsonLines } from './json-lines.ts';

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');
export const CLI = join(REPO_ROOT, 'agent', 'main.ts');
/** The production artifact (`npm run build`): tests that must prove what ships run this instead of the sources. */
export const BUNDLE = join(REPO_ROOT, 'dist', 'linkward.mjs');

export interface DaemonProc {
  child: ChildProcess;
  /** http://127.0.0.1:PORT */
  baseUrl: string;
  stateDir: string;
  configPath: string;
  /** Every JSON log line seen so far. */
  logs: Record<string, unknown>[];
  stderr: () => string;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
  stop(signal?: NodeJS.Signals): Promise<number | string>;
  cleanup(): Promise<void>;
}

/** How long a test waits for "linkward ready"; start-to-ready is well under 1 s, CI machines are slower. */
const READY_TIMEOUT_MS = 15_000;

export async function startDaemon(
  config: Record<string, unknown> = {},
  opts: { env?: NodeJS.ProcessEnv; stateDir?: string; args?: string[]; waitReady?: boolean; entry?: string } = {},
): Promise<DaemonProc> {
  const stateDir = opts.stateDir ?? mkdtempSync(join(tmpdir(), 'lw-daemon-'));
  const configPath = join(stateDir, 'config.yaml');
  const server = (config.server ?? {}) as Record<string, unknown>;
  writeFileSync(
    configPath,
    stringify({ ...config, server: { listen: '127.0.0.1:0', ...server }, state: { dir: stateDir, ...((config.state as object) ?? {}) } }),
  );
  const child = spawn(process.execPath, [opts.entry ?? CLI, '--config', configPath, 'run', ...(opts.args ?? [])], {
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  let err = '';
  let onLine: ((rec: Record<string, unknown>) => void) | null = null;
  onJsonLines(child.stdout, (rec) => {
    logs.push(rec);
    onLine?.(rec);
  });
  child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | string>((res) => child.on('exit', (code, sig) => res(code ?? sig ?? -1)));
  let baseUrl = '';
  const proc: DaemonProc = {
    child,
    get baseUrl() {
      return baseUrl;
    },
    stateDir,
    configPath,
    logs,
    stderr: () => err,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
    async cleanup() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
      if (!opts.stateDir) rmSync(stateDir, { recursive: true, force: true });
    },
  };
  if (opts.waitReady === false) return proc;
  await new Promise<void>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`daemon not ready within ${READY_TIMEOUT_MS} ms; stderr: ${err}`)), READY_TIMEOUT_MS);
    const check = (rec: Record<string, unknown>): void => {
      if (rec.msg === 'linkward listening') baseUrl = `http://${String(rec.listen)}`;
      if (rec.msg === 'linkward ready') {
        clearTimeout(timer);
        res();
      }
    };
    logs.forEach(check);
    onLine = check;
    void exited.then((code) => {
      clearTimeout(timer);
      rej(new Error(`daemon exited (${code}) before ready; stderr: ${err}; logs: ${JSON.stringify(logs)}`));
    });
  });
  return proc;
}
