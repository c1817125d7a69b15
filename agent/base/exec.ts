/** Runs external commands safely: execFile/spawn with argument arrays, LC_ALL=C, a timeout, never a shell. */
import { execFile, spawn } from 'node:child_process';
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
  /**
   * Send stdout to /dev/null instead of capturing it (`stdout` is then ''). For commands whose stdout can be far
   * larger than the capture cap and is not needed, e.g. `conntrack -D`, which prints every deleted entry.
   */
  ignoreStdout?: boolean;
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

/** Runs `cmd args...`; rejects with LW_COMMAND_FAILED (non-ok exit or could not run), LW_COMMAND_TIMEOUT or LW_COMMAND_NOT_FOUND. */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  if (opts.ignoreStdout) return runIgnoringStdout(cmd, args, opts);
  const timeout = opts.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const child = execFile(
      cmd,
      [...args],
      { timeout, maxBuffer: MAX_OUTPUT_BYTES, env: childEnv(opts), signal: opts.signal, killSignal: 'SIGKILL' },
      (err, stdout, stderr) => {
        const out = { stdout: String(stdout), stderr: String(stderr) };
        if (!err) return resolve({ code: 0, ...out });
        const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: string | number };
        settle(cmd, args, opts, timeout, e, typeof e.code === 'number' ? e.code : null, out, resolve, reject);
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Same contract as run(), with stdout discarded (spawn with stdout ignored; stderr captured up to the cap). */
function runIgnoringStdout(cmd: string, args: readonly string[], opts: RunOptions): Promise<RunResult> {
  const timeout = opts.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, [...args], {
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'ignore', 'pipe'],
      env: childEnv(opts),
      signal: opts.signal,
      killSignal: 'SIGKILL',
      timeout,
    });
    let stderr = '';
    child.stderr?.on('data', (c: Buffer) => {
      if (stderr.length < MAX_OUTPUT_BYTES) stderr += c.toString();
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    let failed: (NodeJS.ErrnoException & { killed?: boolean }) | null = null;
    child.on('error', (e: NodeJS.ErrnoException) => (failed = e));
    child.on('close', (code, signal) => {
      const out = { stdout: '', stderr };
      if (failed) return settle(cmd, args, opts, timeout, failed, null, out, resolve, reject);
      if (signal !== null)
        return settle(cmd, args, opts, timeout, Object.assign(new Error(`killed by ${signal}`), { killed: true }), null, out, resolve, reject);
      if (code === 0) return resolve({ code: 0, ...out });
      settle(cmd, args, opts, timeout, Object.assign(new Error(`exited ${code}`), {}), code, out, resolve, reject);
    });
  });
}

/**
 * Maps a failed run to its result or error. Only a real exit status counts as an exit code: spawn errors (EACCES),
 * a capture overflow or a kill are failures, never "exit 1" (which some callers accept as success).
 */
function settle(
  cmd: string,
  args: readonly string[],
  opts: RunOptions,
  timeout: number,
  e: NodeJS.ErrnoException & { killed?: boolean },
  exitCode: number | null,
  out: { stdout: string; stderr: string },
  resolve: (r: RunResult) => void,
  reject: (e: unknown) => void,
): void {
  const context = { cmd, args: [...args], stderr: out.stderr.slice(0, 2000) };
  if (e.code === 'ENOENT') return reject(new LwError('LW_COMMAND_NOT_FOUND', `${cmd} not found: install it or fix PATH`, { cause: e, context }));
  if (e.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER')
    return reject(
      new LwError('LW_COMMAND_FAILED', `${cmd} ${args.join(' ')} printed more than ${MAX_OUTPUT_BYTES} bytes and was stopped`, { cause: e, context }),
    );
  if (e.killed || e.code === 'ABORT_ERR')
    return reject(new LwError('LW_COMMAND_TIMEOUT', `${cmd} ${args.join(' ')} did not finish within ${timeout} ms`, { cause: e, context }));
  if (exitCode === null)
    return reject(new LwError('LW_COMMAND_FAILED', `${cmd} ${args.join(' ')} could not run to completion: ${e.code ?? e.message}`, { cause: e, context }));
  if ((opts.okCodes ?? [0]).includes(exitCode)) return resolve({ code: exitCode, ...out });
  reject(
    new LwError('LW_COMMAND_FAILED', `${cmd} ${args.join(' ')} exited ${exitCode}: ${out.stderr.trim().split('\n')[0] ?? ''}`, {
      cause: e,
      context: { ...context, code: exitCode },
    }),
  );
}

/** The child's environment: the caller's (or ours) with LC_ALL=C, so output parsing never meets a translated message. */
function childEnv(opts: RunOptions): NodeJS.ProcessEnv {
  return { ...(opts.env ?? process.env), LC_ALL: 'C' };
}

/** The real runner. */
export const systemRunner: CommandRunner = { run };
