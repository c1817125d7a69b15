/** `linkward route use UPLINK`: sends the manual override, waits for the daemon's decision and maps it to an exit code. */
import { randomUUID } from 'node:crypto';
import { ErrorCode, isLwError, messageOf } from '../base/errors.ts';
import { daemonGet, daemonPost, daemonTarget, type DaemonOptions, type DaemonResponse } from './client.ts';

type Out = NodeJS.WritableStream;

/**
 * Exit codes of `route use` (docs/OPERATIONS.md, CLI exit codes): the final outcome of the switch, not whether the
 * request was sent.
 */
export const RouteUseExit = {
  /** Confirmed through the new default route, already active, or applied without routes (dry-run / unmanaged). */
  CONFIRMED: 0,
  /** The switch was made and rolled back (the reason is printed). */
  ROLLED_BACK: 1,
  /** Refused: unknown uplink, bad --for, route switching refused, or the policy did not switch (reason printed). */
  REFUSED: 2,
  /** The daemon could not be reached: the request was not delivered. */
  UNREACHABLE: 3,
  /** The request was (or may have been) delivered but no decision was seen in time: check `linkward route show`. */
  UNDECIDED: 4,
} as const;

/** The POST may queue behind a busy daemon (CPU starvation): it gets longer than ordinary CLI calls. */
export const USE_POST_TIMEOUT_MS = 15_000;
/** Poll GET /v1/route this often while waiting for the decision. */
export const USE_POLL_MS = 500;
/** Wait for a decision this long when the daemon did not say (its POST answer was lost): confirm + grace + a margin. */
export const USE_DEFAULT_WAIT_MS = 60_000;

/** What `route use` needs from the daemon (the real client, or a fake in unit tests). */
export interface RouteUseApi {
  post(body: Record<string, unknown>): Promise<DaemonResponse<Record<string, unknown> | null>>;
  get(): Promise<DaemonResponse<Record<string, unknown> | null>>;
  sleep(ms: number): Promise<void>;
  monoMs(): number;
}

interface RequestView {
  id: string;
  uplink: string;
  state: string;
  detail: string;
  cause?: string;
}

/** A connection refused (or no socket file) proves the request never reached the daemon; a timeout does not. */
function neverDelivered(e: unknown): boolean {
  const cause = (e as { cause?: { code?: string } }).cause;
  return cause?.code === 'ECONNREFUSED' || cause?.code === 'ENOENT' || cause?.code === 'EHOSTUNREACH';
}

/** `route use UPLINK`: sends the override, then waits for the daemon's decision and prints it (exit codes: RouteUseExit). */
export async function useCommand(uplink: string, o: { for?: string; json?: boolean; waitMs?: number }, api: RouteUseApi, out: Out, err: Out): Promise<number> {
  const requestId = randomUUID();
  let waitMs = o.waitMs ?? USE_DEFAULT_WAIT_MS;
  let sendError: unknown = null;
  try {
    const r = await api.post({ uplink, requestId, ...(o.for ? { for: o.for } : {}) });
    const msg = String((r.body?.error as { message?: string } | undefined)?.message ?? `daemon answered ${r.status}`);
    if (r.status >= 400) {
      err.write(`linkward route use: refused: ${msg}\n`);
      return RouteUseExit.REFUSED;
    }
    if (o.waitMs === undefined && typeof r.body?.decideWithinMs === 'number') waitMs = r.body.decideWithinMs;
  } catch (e) {
    if (isLwError(e, ErrorCode.CONFIG_INVALID)) {
      err.write(`linkward route use: ${messageOf(e)}\n`);
      return RouteUseExit.REFUSED;
    }
    if (neverDelivered(e)) {
      err.write(`linkward route use: ${messageOf(e)}\nnothing was changed.\n`);
      return RouteUseExit.UNREACHABLE;
    }
    sendError = e;
    err.write(`linkward route use: no answer to the request (${messageOf(e)}); checking whether the daemon got it...\n`);
  }
  const start = api.monoMs();
  let seen = false;
  let lastProblem = '';
  while (api.monoMs() - start < waitMs) {
    try {
      const r = await api.get();
      const req = ((r.body?.requests as RequestView[] | undefined) ?? []).find((x) => x.id === requestId);
      if (req) seen = true;
      if (req && req.state !== 'pending') return report(uplink, req, o.json ?? false, out, err);
      lastProblem = r.status >= 400 ? `daemon answered ${r.status}` : req ? `still ${req.detail}` : 'the request is not (yet) known to the daemon';
    } catch (e) {
      lastProblem = messageOf(e);
    }
    await api.sleep(USE_POLL_MS);
  }
  if (sendError !== null && !seen) {
    err.write(
      `linkward route use: the daemon never showed the request within ${Math.round(waitMs / 1000)} s (${lastProblem}); it may or may not have been received. Check \`linkward route show\`.\n`,
    );
  } else err.write(`linkward route use: no decision within ${Math.round(waitMs / 1000)} s (${lastProblem}). Check \`linkward route show\`.\n`);
  return RouteUseExit.UNDECIDED;
}

/** Prints the decision and maps it to an exit code. */
function report(uplink: string, req: RequestView, json: boolean, out: Out, err: Out): number {
  const code = req.state === 'rolled-back' ? RouteUseExit.ROLLED_BACK : req.state === 'refused' ? RouteUseExit.REFUSED : RouteUseExit.CONFIRMED;
  if (json) out.write(JSON.stringify(req) + '\n');
  else if (code === RouteUseExit.CONFIRMED)
    out.write(
      req.state === 'already'
        ? `${uplink}: already active\n`
        : req.state === 'applied'
          ? `${uplink}: applied (${req.detail})\n`
          : `${uplink}: confirmed (${req.detail})\n`,
    );
  else err.write(`${uplink}: ${req.state === 'rolled-back' ? 'rolled back' : 'refused'}: ${req.detail}\n`);
  return code;
}

/** The real API: the daemon client, with a longer timeout for the POST. */
export async function daemonUseApi(o: DaemonOptions): Promise<RouteUseApi> {
  const target = await daemonTarget(o);
  return {
    post: (body) => daemonPost<Record<string, unknown> | null>(target, '/v1/route/use', body, USE_POST_TIMEOUT_MS),
    get: () => daemonGet<Record<string, unknown> | null>(target, '/v1/route'),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    monoMs: () => performance.now(),
  };
}
