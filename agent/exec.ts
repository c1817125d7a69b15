/** Runs external commands safely: execFile with argument arrays, LC_ALL=C, a timeout, never a shell. */
import { execFile } from 'node:child_process';
import { LwError } from './errors.ts';

/** Default timeout for one external command; `ip`/`nft` answer in milliseconds, 10 s means it is stuck. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 10_000;
/** Cap on captured output per stream, so a runaway command cannot exhaust memory. */
const MAX_OUTPUT_BYTES = 8 * 1024 * 1024;

export interface RunOptions {
  timeoutMs?: number;
  /** Exit codes that count as success (default [0]). */
  okCodes?: readonly number[];
  input?: string;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Port for running commands, so adapters can be tested with a recording fake. */
export interface CommandRunner {
  run(cmd: string, args: readonly string[], opts?: RunOptions): Promise<RunResult>;
}

/** Runs `cmd args...`; rejects with LW_COMMAND_FAILED (non-ok exit), LW_COMMAND_TIMEOUT or LW_COMMAND_NOT_FOUND. */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const timeout = opts.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  const okCodes = opts.okCodes ?? [0];
  return new Promise((resolve, reject) => {
    const child = execFile(
      cmd,
      [...args],
      { timeout, maxBuffer: MAX_OUTPUT_BYTES, env: { ...(opts.env ?? process.env), LC_ALL: 'C' }, signal: opts.signal, killSignal: 'SIGKILL' },
      (err, stdout, stderr) => {
        const context = { cmd, args: [...args], stderr: String(stderr).slice(0, 2000) };
        if (err) {
          const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: string | number };
          if (e.code === 'ENOENT') return reject(new LwError('LW_COMMAND_NOT_FOUND', `${cmd} not found: install it or fix PATH`, { cause: err, context }));
          if (e.killed || e.code === 'ABORT_ERR') return reject(new LwError('LW_COMMAND_TIMEOUT', `${cmd} ${args.join(' ')} did not finish within ${timeout} ms`, { cause: err, context }));
          const code = typeof e.code === 'number' ? e.code : 1;
          if (okCodes.includes(code)) return resolve({ code, stdout: String(stdout), stderr: String(stderr) });
          return reject(new LwError('LW_COMMAND_FAILED', `${cmd} ${args.join(' ')} exited ${code}: ${String(stderr).trim().split('\n')[0] ?? ''}`, { cause: err, context: { ...context, code } }));
        }
        resolve({ code: 0, stdout: String(stdout), stderr: String(stderr) });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** The real runner. */
export const systemRunner: CommandRunner = { run };
