/** Runs linkward from an extracted release tree (its own node, its own node_modules) with a clean environment. */
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { onJsonLines } from '../../support/json-lines.ts';

/** Start-to-ready is under 1 s here; a loaded CI machine gets 20 s. */
const READY_TIMEOUT_MS = 20_000;

/** PATH with the tree's node first and nothing from the repo (no node_modules/.bin). */
export function cleanEnv(tree: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { PATH: `${tree}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`, LC_ALL: 'C', HOME: tree, ...extra };
}

/** `<tree>/node <tree>/dist/linkward.mjs ...args`, cwd in the tree. */
export function runCli(tree: string, args: string[], env: NodeJS.ProcessEnv = cleanEnv(tree)): SpawnSyncReturns<string> {
  return spawnSync(join(tree, 'node'), [join(tree, 'dist', 'linkward.mjs'), ...args], { cwd: tree, env, encoding: 'utf8', timeout: 30_000 });
}

export interface TreeDaemon {
  child: ChildProcess;
  baseUrl: string;
  logs: Record<string, unknown>[];
  exited: Promise<number | string>;
  kill(): Promise<void>;
}

/**
 * Starts `linkward run` from the tree on 127.0.0.1:0 with `stateDir` (behind `wrap`, e.g. setpriv); resolves once
 * "linkward ready" is logged. `extraYaml` adds top-level config sections (other than `server` and `state`).
 */
export async function startTreeDaemon(
  tree: string,
  stateDir: string,
  env: NodeJS.ProcessEnv = cleanEnv(tree),
  wrap: string[] = [],
  extraYaml = '',
  readyTimeoutMs = READY_TIMEOUT_MS,
): Promise<TreeDaemon> {
  const config = join(stateDir, '..', 'config.yaml');
  writeFileSync(config, `server:\n  listen: 127.0.0.1:0\nstate:\n  dir: ${JSON.stringify(stateDir)}\n${extraYaml}`);
  const argv = [...wrap, join(tree, 'node'), join(tree, 'dist', 'linkward.mjs'), '--config', config, 'run'];
  const child = spawn(argv[0] ?? 'node', argv.slice(1), { cwd: tree, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: Record<string, unknown>[] = [];
  let stderr = '';
  let baseUrl = '';
  const exited = new Promise<number | string>((res) => child.on('exit', (code, sig) => res(code ?? sig ?? -1)));
  const ready = new Promise<void>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`not ready in ${readyTimeoutMs} ms; stderr: ${stderr}`)), readyTimeoutMs);
    onJsonLines(child.stdout, (rec) => {
      logs.push(rec);
      if (rec.msg === 'linkward listening') baseUrl = `http://${String(rec.listen)}`;
      if (rec.msg === 'linkward ready') {
        clearTimeout(timer);
        res();
      }
    });
    child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
    void exited.then((code) => {
      clearTimeout(timer);
      rej(new Error(`daemon exited (${code}) before ready; stderr: ${stderr}; logs: ${JSON.stringify(logs)}`));
    });
  });
  const kill = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  try {
    await ready;
  } catch (e) {
    await kill();
    throw e;
  }
  return { child, baseUrl, logs, exited, kill };
}

/** How long a tree's daemon gets to show its first malloc trim (one period is 1 s; qemu-user is ~10× slower). */
const TRIM_WAIT_MS = 15_000;

/**
 * Polls /metrics until linkward_malloc_trim_total counts a trim: the tree's addon exports mallocTrim and the daemon
 * runs it (agent/runtime/malloc-trim.ts). Returns the number of trims seen.
 */
export async function waitForMallocTrim(baseUrl: string): Promise<number> {
  const deadline = Date.now() + TRIM_WAIT_MS;
  let last = '';
  while (Date.now() < deadline) {
    last = await (await fetch(`${baseUrl}/metrics`)).text();
    const n = [...last.matchAll(/^linkward_malloc_trim_total\{result="(?:released|none)"\} (\d+)$/gm)].reduce((a, m) => a + Number(m[1]), 0);
    if (n > 0) return n;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(
    `no malloc trim counted within ${TRIM_WAIT_MS} ms; metrics: ${
      last
        .split('\n')
        .filter((l) => l.includes('malloc_trim'))
        .join(' | ') || 'none'
    }`,
  );
}
