/** `linkward route show|use UPLINK [--for 30m] [--wait 1m]|auto|cleanup`: inspect and steer uplink failover. */
import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { loadConfig, resolveConfigPath } from '../config/load.ts';
import { ErrorCode, isLwError, messageOf } from '../base/errors.ts';
import { Exit, exitForError, exitForStatus } from './exit-codes.ts';
import { silentLogger } from '../base/log.ts';
import { createIpActuator, type RouteActuator } from '../route/actuator.ts';
import { parseDurationMs } from '../config/route.ts';
import { cleanupCommands, familiesFor, renderCommands, resolveUplinks } from '../route/plan.ts';
import { restoreCommands } from '../route/restore.ts';
import { readOriginalDefaults } from '../route/store.ts';
import { daemonGet, daemonPost, daemonTarget, type DaemonOptions, type DaemonResponse } from './client.ts';
import { withDaemonOptions } from './status.ts';

type Out = NodeJS.WritableStream;

/** Human summary of GET /v1/route. */
export function renderRouteShow(d: Record<string, unknown>): string {
  const lines = [
    `active: ${String(d.active ?? 'none')}   mode: ${String(d.mode)}${d.override ? `   override: ${JSON.stringify(d.override)}` : ''}${d.dryRun ? '   (dry-run)' : ''}`,
  ];
  lines.push(
    `routes managed: ${d.routesManaged ? 'yes' : 'no'}${(d.k3s as { message?: string } | null)?.message ? ` — ${(d.k3s as { message: string }).message}` : ''}`,
  );
  lines.push(`last decision: ${String(d.lastDecision)}`);
  for (const u of (d.uplinks as { name: string; priority: number; interface: string | null; health: string }[]) ?? []) {
    lines.push(
      `  ${u.name === d.active ? '*' : ' '} ${u.name.padEnd(12)} prio ${String(u.priority).padStart(4)}  ${String(u.interface ?? '-').padEnd(10)} ${u.health}`,
    );
  }
  for (const m of (d.managed as string[]) ?? []) lines.push(`  managed: ${m}`);
  for (const p of (d.problems as string[]) ?? []) lines.push(`  problem: ${p}`);
  if (d.lastError) lines.push(`  error: ${String(d.lastError)}`);
  for (const h of (d.history as { atMs: number; from: string | null; to: string; reason: string; result: string; detail: string }[]) ?? []) {
    lines.push(`  ${new Date(h.atMs).toISOString()} ${h.from ?? '-'} → ${h.to} (${h.reason}) ${h.result}: ${h.detail}`);
  }
  return lines.join('\n') + '\n';
}

async function call(o: DaemonOptions & { json?: boolean }, method: 'GET' | 'POST', path: string, body: unknown, out: Out, err: Out): Promise<number> {
  try {
    const target = await daemonTarget(o);
    const r = method === 'GET' ? await daemonGet<Record<string, unknown>>(target, path) : await daemonPost<Record<string, unknown>>(target, path, body);
    if (r.status >= 400) {
      err.write(`linkward route: ${String((r.body?.error as { message?: string } | undefined)?.message ?? `daemon answered ${r.status}`)}\n`);
      return exitForStatus(r.status);
    }
    out.write(method === 'GET' && !o.json ? renderRouteShow(r.body) : JSON.stringify(r.body) + '\n');
    return Exit.OK;
  } catch (e) {
    err.write(`linkward route: ${messageOf(e)}\n`);
    return exitForError(e);
  }
}

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
async function daemonUseApi(o: DaemonOptions): Promise<RouteUseApi> {
  const target = await daemonTarget(o);
  return {
    post: (body) => daemonPost<Record<string, unknown> | null>(target, '/v1/route/use', body, USE_POST_TIMEOUT_MS),
    get: () => daemonGet<Record<string, unknown> | null>(target, '/v1/route'),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    monoMs: () => performance.now(),
  };
}

/**
 * `route cleanup`: runs locally (works without the daemon; stop it first or it re-applies). Puts back the default
 * routes found before linkward (remembered in state.db), removes linkward's default routes (never the last default),
 * then its tables and rules, in both families of dual-stack uplinks. An unknown kernel read changes nothing.
 */
export async function cleanupCommand(o: { config?: string; dryRun?: boolean }, out: Out, err: Out, actuator?: RouteActuator): Promise<number> {
  try {
    const loaded = loadConfig(resolveConfigPath(o.config));
    const cfg = loaded.config;
    const p = cfg.failover;
    const opts = { perUplinkTables: false, tableBase: p.tableBase, routeProto: p.routeProto, mainMetric: p.mainMetric };
    const act = actuator ?? createIpActuator({ log: silentLogger(), dryRun: o.dryRun ?? false, families: familiesFor(cfg.uplinks) });
    const kernel = await act.read();
    const originals = await readOriginalDefaults(loaded.stateDir);
    const cmds = [...restoreCommands(kernel, originals, opts), ...cleanupCommands(kernel, opts, resolveUplinks(cfg.uplinks, kernel, opts).uplinks)];
    if (cmds.length === 0) {
      out.write('nothing to clean up\n');
      return Exit.OK;
    }
    if (o.dryRun) {
      out.write(renderCommands(cmds) + '\n');
      return Exit.OK;
    }
    const r = await act.apply(cmds);
    out.write(r.applied.map((l) => l + '\n').join(''));
    for (const e of r.errors) err.write(`failed: ${e.cmd}: ${e.message}\n`);
    return r.errors.length > 0 ? Exit.FAILURE : Exit.OK;
  } catch (e) {
    err.write(`linkward route cleanup: ${messageOf(e)}\n`);
    return Exit.FAILURE;
  }
}

export function registerRouteCommands(program: Command): void {
  const route = program.command('route').description('Uplink failover: show, steer, clean up');
  const globals = (cmd: Command): { config?: string } => cmd.optsWithGlobals<{ config?: string }>();
  withDaemonOptions(route.command('show').description('Active uplink, health, managed routes, recent switches'))
    .option('--json', 'print the JSON document')
    .action(async (o: DaemonOptions & { json?: boolean }, cmd: Command) => {
      process.exitCode = await call({ ...o, ...globals(cmd) }, 'GET', '/v1/route', undefined, process.stdout, process.stderr);
    });
  withDaemonOptions(
    route
      .command('use')
      .argument('<uplink>', 'uplink name')
      .description(
        'Move the default route to UPLINK (manual override) and wait for the outcome: exit 0 confirmed, 1 rolled back, 2 refused, 3 daemon unreachable, 4 no decision in time',
      ),
  )
    .option('--for <duration>', 'override expires after this long (e.g. 30m, 2h); default: until `route auto`')
    .option('--wait <duration>', 'wait at most this long for the decision (default: what the daemon says, about 2 confirm timeouts + 20 s)')
    .option('--json', 'print the decision as JSON')
    .action(async (uplink: string, o: DaemonOptions & { for?: string; wait?: string; json?: boolean }, cmd: Command) => {
      for (const [flag, v] of [
        ['--for', o.for],
        ['--wait', o.wait],
      ] as const) {
        if (v !== undefined && !(parseDurationMs(v) > 0)) {
          process.stderr.write(`linkward route use: ${flag} "${v}" is not a duration (use e.g. 30s, 30m, 2h)\n`);
          process.exitCode = RouteUseExit.REFUSED;
          return;
        }
      }
      let api: RouteUseApi;
      try {
        api = await daemonUseApi({ ...o, ...globals(cmd) });
      } catch (e) {
        process.stderr.write(`linkward route use: ${messageOf(e)}\n`);
        process.exitCode = RouteUseExit.REFUSED;
        return;
      }
      process.exitCode = await useCommand(
        uplink,
        { ...(o.for ? { for: o.for } : {}), ...(o.json ? { json: true } : {}), ...(o.wait ? { waitMs: parseDurationMs(o.wait) } : {}) },
        api,
        process.stdout,
        process.stderr,
      );
    });
  withDaemonOptions(route.command('auto').description('End a manual override; the failover policy decides again')).action(
    async (o: DaemonOptions, cmd: Command) => {
      process.exitCode = await call({ ...o, ...globals(cmd), json: true }, 'POST', '/v1/route/auto', {}, process.stdout, process.stderr);
    },
  );
  route
    .command('cleanup')
    .description("Put back the default routes found before linkward, remove linkward's default route (never the last one), tables and rules; needs root")
    .option('--dry-run', 'print the ip commands instead of running them')
    .action(async (o: { dryRun?: boolean }, cmd: Command) => {
      process.exitCode = await cleanupCommand({ ...o, ...globals(cmd) }, process.stdout, process.stderr);
    });
}
