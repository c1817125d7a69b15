/** CLI → daemon client: finds the daemon's address and token from the same config and calls its HTTP API. */
import { ErrorCode, LwError } from '../errors.ts';
import { loadConfig, resolveConfigPath, type LoadedConfig } from '../config/load.ts';

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

/** Builds the target from CLI options and the config file (same resolution as the daemon). */
export function daemonTarget(opts: DaemonOptions, loaded?: LoadedConfig): DaemonTarget {
  const cfg = loaded ?? loadConfig(resolveConfigPath(opts.config));
  const address = opts.address ?? process.env.LINKWARD_ADDRESS ?? cfg.config.server.listen;
  const baseUrl = address.startsWith('http') ? address.replace(/\/$/, '') : `http://${connectHost(address)}`;
  return { baseUrl, token: opts.token ?? process.env.LINKWARD_TOKEN ?? cfg.token };
}

/** A wildcard listen address is reached through loopback. */
function connectHost(listen: string): string {
  return listen.replace(/^0\.0\.0\.0:/, '127.0.0.1:').replace(/^\[::\]:/, '[::1]:');
}

export interface DaemonResponse<T> {
  status: number;
  body: T;
}

async function call<T>(target: DaemonTarget, method: 'GET' | 'POST', path: string, body?: unknown, timeoutMs = CLI_REQUEST_TIMEOUT_MS): Promise<DaemonResponse<T>> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (target.token) headers.authorization = `Bearer ${target.token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res;
  try {
    // Loaded on first use: the daemon bundles this module but never calls it (keeps idle RSS low).
    const { request } = await import('undici');
    res = await request(target.baseUrl + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (cause) {
    throw new LwError(ErrorCode.DAEMON_UNREACHABLE, `linkward daemon not reachable at ${target.baseUrl} (${(cause as Error).message}). Start it with "linkward run" or "systemctl start linkward".`, { cause });
  }
  const text = await res.body.text();
  try {
    return { status: res.statusCode, body: (text ? JSON.parse(text) : null) as T };
  } catch (cause) {
    throw new LwError(ErrorCode.DAEMON_BAD_RESPONSE, `daemon at ${target.baseUrl}${path} answered ${res.statusCode} with non-JSON`, { cause });
  }
}

/** GET a JSON document from the daemon. */
export function daemonGet<T>(target: DaemonTarget, path: string, timeoutMs?: number): Promise<DaemonResponse<T>> {
  return call<T>(target, 'GET', path, undefined, timeoutMs);
}

/** POST a JSON body to the daemon. */
export function daemonPost<T>(target: DaemonTarget, path: string, body: unknown, timeoutMs?: number): Promise<DaemonResponse<T>> {
  return call<T>(target, 'POST', path, body, timeoutMs);
}
