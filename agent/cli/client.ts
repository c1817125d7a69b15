/** CLI → daemon client: finds the daemon's address and token from the same config and calls its HTTP API. */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { ErrorCode, LwError } from '../base/errors.ts';
import type { LoadedConfig } from '../config/load.ts';

/** How long the CLI waits for the daemon before reporting it unreachable. */
export const CLI_REQUEST_TIMEOUT_MS = 5_000;

export interface DaemonTarget {
  /** Base URL, e.g. http://127.0.0.1:9780 */
  baseUrl: string;
  token: string | undefined;
}

/** Options every daemon-talking command accepts. */
export interface DaemonOptions {
  config?: string;
  /** Overrides the address from config (HOST:PORT or URL). */
  address?: string;
  token?: string;
}

/**
 * Builds the target from CLI options and the config file (same resolution as the daemon). The config file is read
 * only when the address or a needed token is not given: `check`/`wait` (public endpoint) with `--address` run as an
 * exec probe every few seconds and should not pay for loading and validating the config (zod, yaml).
 */
export async function daemonTarget(opts: DaemonOptions, need: { token: boolean } = { token: true }): Promise<DaemonTarget> {
  const address = opts.address ?? process.env.LINKWARD_ADDRESS;
  const token = opts.token ?? process.env.LINKWARD_TOKEN;
  let cfg: LoadedConfig | undefined;
  if (address === undefined || (token === undefined && need.token)) {
    const { loadConfig, resolveConfigPath } = await import('../config/load.ts');
    cfg = loadConfig(resolveConfigPath(opts.config));
  }
  const where = address ?? cfg!.config.server.listen;
  const baseUrl = where.startsWith('http') ? where.replace(/\/$/, '') : `http://${connectHost(where)}`;
  return { baseUrl, token: token ?? cfg?.token };
}

/** A wildcard listen address is reached through loopback. */
function connectHost(listen: string): string {
  return listen.replace(/^0\.0\.0\.0:/, '127.0.0.1:').replace(/^\[::\]:/, '[::1]:');
}

export interface DaemonResponse<T> {
  status: number;
  body: T;
}

async function call<T>(
  target: DaemonTarget,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  timeoutMs = CLI_REQUEST_TIMEOUT_MS,
): Promise<DaemonResponse<T>> {
  checkTarget(target);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (target.token) headers.authorization = `Bearer ${target.token}`;
  const payload = body === undefined ? undefined : JSON.stringify(body);
  if (payload !== undefined) headers['content-type'] = 'application/json';
  let res: { status: number; text: string };
  try {
    res = await exchange(target.baseUrl + path, method, headers, payload, timeoutMs);
  } catch (cause) {
    throw new LwError(
      ErrorCode.DAEMON_UNREACHABLE,
      `linkward daemon not reachable at ${target.baseUrl} (${(cause as Error).message}). Start it with "linkward run" or "systemctl start linkward".`,
      { cause },
    );
  }
  try {
    return { status: res.status, body: (res.text ? JSON.parse(res.text) : null) as T };
  } catch (cause) {
    throw new LwError(ErrorCode.DAEMON_BAD_RESPONSE, `daemon at ${target.baseUrl}${path} answered ${res.status} with non-JSON`, { cause });
  }
}

/** Input mistakes are config errors (exit 2, fix the input), not "daemon unreachable" (exit 3, start the daemon). */
function checkTarget(target: DaemonTarget): void {
  const url = URL.parse(target.baseUrl);
  if (url === null || !/^https?:$/.test(url.protocol)) {
    throw new LwError(
      ErrorCode.CONFIG_INVALID,
      `daemon address ${JSON.stringify(target.baseUrl)} is not HOST:PORT or an http(s) URL (check --address, $LINKWARD_ADDRESS or server.listen)`,
    );
  }
  if (target.token !== undefined && /[^\x21-\x7e]/.test(target.token)) {
    throw new LwError(
      ErrorCode.CONFIG_INVALID,
      'the token contains spaces or control characters (a trailing newline from a file?): check --token or $LINKWARD_TOKEN',
    );
  }
}

/**
 * One request with node:http (https loaded only for https URLs): a CLI run makes one or a few loopback calls, and
 * node's built-in client costs nothing to load, where undici would add ~9 MiB and tens of ms to every exec probe.
 * `timeoutMs` bounds the whole exchange, connect to last byte.
 */
async function exchange(
  url: string,
  method: string,
  headers: Record<string, string>,
  payload: string | undefined,
  timeoutMs: number,
): Promise<{ status: number; text: string }> {
  const u = new URL(url);
  const send = u.protocol === 'https:' ? (await import('node:https')).request : httpRequest;
  return new Promise((resolve, reject) => {
    // agent: false — one-shot connections: a kept-alive socket could be closed by the daemon's 5 s idle timeout just
    // as `wait` reuses it ("socket hang up").
    const req = send(u, { method, headers, agent: false, signal: AbortSignal.timeout(timeoutMs) }, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', (e: Error) => reject(e.name === 'AbortError' ? new Error(`no answer within ${timeoutMs} ms`) : e));
    req.end(payload);
  });
}

/** GET a JSON document from the daemon. */
export function daemonGet<T>(target: DaemonTarget, path: string, timeoutMs?: number): Promise<DaemonResponse<T>> {
  return call<T>(target, 'GET', path, undefined, timeoutMs);
}

/** POST a JSON body to the daemon. */
export function daemonPost<T>(target: DaemonTarget, path: string, body: unknown, timeoutMs?: number): Promise<DaemonResponse<T>> {
  return call<T>(target, 'POST', path, body, timeoutMs);
}

/**
 * POST whose answer is NDJSON (one JSON object per line, e.g. progress then a result): `onLine` gets each object as
 * it arrives. Resolves with the status once the answer ends; `timeoutMs` bounds the whole exchange.
 */
export async function daemonStream(target: DaemonTarget, path: string, onLine: (obj: Record<string, unknown>) => void, timeoutMs: number): Promise<number> {
  checkTarget(target);
  const headers: Record<string, string> = { accept: 'application/x-ndjson' };
  if (target.token) headers.authorization = `Bearer ${target.token}`;
  const u = new URL(target.baseUrl + path);
  const send = u.protocol === 'https:' ? (await import('node:https')).request : httpRequest;
  try {
    return await new Promise<number>((resolve, reject) => {
      const req = send(u, { method: 'POST', headers, agent: false, signal: AbortSignal.timeout(timeoutMs) }, (res: IncomingMessage) => {
        let rest = '';
        const flush = (text: string): void => {
          for (const line of text.split('\n')) {
            if (line.trim() === '') continue;
            try {
              onLine(JSON.parse(line) as Record<string, unknown>);
            } catch {
              onLine({ error: { code: ErrorCode.DAEMON_BAD_RESPONSE, message: `not JSON: ${line.slice(0, 200)}` } });
            }
          }
        };
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          const text = rest + c;
          const cut = text.lastIndexOf('\n');
          rest = cut < 0 ? text : text.slice(cut + 1);
          if (cut >= 0) flush(text.slice(0, cut));
        });
        res.on('end', () => {
          flush(rest);
          resolve(res.statusCode ?? 0);
        });
        res.on('error', reject);
      });
      req.on('error', (e: Error) => reject(e.name === 'AbortError' ? new Error(`no answer within ${timeoutMs} ms`) : e));
      req.end();
    });
  } catch (cause) {
    throw new LwError(
      ErrorCode.DAEMON_UNREACHABLE,
      `linkward daemon not reachable at ${target.baseUrl} (${(cause as Error).message}). Start it with "linkward run" or "systemctl start linkward".`,
      { cause },
    );
  }
}
