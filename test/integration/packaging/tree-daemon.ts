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
    const timer = setTimeout(() => rej(new Error(`not ready in ${READY_TIMEOUT_MS} ms; stderr: ${stderr}`)), READY_TIMEOUT_MS);
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
