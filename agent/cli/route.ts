/** `linkward route show|use UPLINK [--for 30m]|auto|cleanup`: inspect and steer uplink failover. */
import type { Command } from 'commander';
import { loadConfig, resolveConfigPath } from '../config/load.ts';
import { messageOf } from '../errors.ts';
import { Exit } from '../exit-codes.ts';
import { silentLogger } from '../log.ts';
import { createIpActuator, type RouteActuator } from '../route/actuator.ts';
import { parseDurationMs } from '../route/config.ts';
import { cleanupCommands, familiesFor, renderCommands, resolveUplinks } from '../route/plan.ts';
import { restoreCommands } from '../route/restore.ts';
import { readOriginalDefaults } from '../route/store.ts';
import { daemonGet, daemonPost, daemonTarget, type DaemonOptions } from './client.ts';
import { withDaemonOptions } from './status.ts';

type Out = NodeJS.WritableStream;

/** Human summary of GET /v1/route. */
export function renderRouteShow(d: Record<string, unknown>): string {
  const lines = [`active: ${String(d.active ?? 'none')}   mode: ${String(d.mode)}${d.override ? `   override: ${JSON.stringify(d.override)}` : ''}${d.dryRun ? '   (dry-run)' : ''}`];
  lines.push(`routes managed: ${d.routesManaged ? 'yes' : 'no'}${(d.k3s as { message?: string } | null)?.message ? ` — ${(d.k3s as { message: string }).message}` : ''}`);
  lines.push(`last decision: ${String(d.lastDecision)}`);
  for (const u of (d.uplinks as { name: string; priority: number; interface: string | null; health: string }[]) ?? []) {
    lines.push(`  ${u.name === d.active ? '*' : ' '} ${u.name.padEnd(12)} prio ${String(u.priority).padStart(4)}  ${String(u.interface ?? '-').padEnd(10)} ${u.health}`);
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
      return r.status === 404 ? Exit.DOWN : Exit.FAILURE;
    }
    out.write(method === 'GET' && !o.json ? renderRouteShow(r.body) : JSON.stringify(r.body) + '\n');
    return Exit.OK;
  } catch (e) {
    err.write(`linkward route: ${messageOf(e)}\n`);
    return Exit.UNREACHABLE;
  }
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
  withDaemonOptions(route.command('use').argument('<uplink>', 'uplink name').description('Move the default route to UPLINK (manual override)'))
    .option('--for <duration>', 'override expires after this long (e.g. 30m, 2h); default: until `route auto`')
    .action(async (uplink: string, o: DaemonOptions & { for?: string }, cmd: Command) => {
      if (o.for !== undefined && !(parseDurationMs(o.for) > 0)) {
        process.stderr.write(`linkward route use: --for "${o.for}" is not a duration (use e.g. 30m, 2h)\n`);
        process.exitCode = Exit.DOWN;
        return;
      }
      process.exitCode = await call({ ...o, ...globals(cmd), json: true }, 'POST', '/v1/route/use', { uplink, ...(o.for ? { for: o.for } : {}) }, process.stdout, process.stderr);
    });
  withDaemonOptions(route.command('auto').description('End a manual override; the failover policy decides again'))
    .action(async (o: DaemonOptions, cmd: Command) => {
      process.exitCode = await call({ ...o, ...globals(cmd), json: true }, 'POST', '/v1/route/auto', {}, process.stdout, process.stderr);
    });
  route
    .command('cleanup')
    .description("Put back the default routes found before linkward, remove linkward's default route (never the last one), tables and rules; needs root")
    .option('--dry-run', 'print the ip commands instead of running them')
    .action(async (o: { dryRun?: boolean }, cmd: Command) => {
      process.exitCode = await cleanupCommand({ ...o, ...globals(cmd) }, process.stdout, process.stderr);
    });
}
