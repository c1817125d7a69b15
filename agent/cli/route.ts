/** `linkward route show|use UPLINK [--for 30m] [--wait 1m]|auto|cleanup`: inspect and steer uplink failover. */
import type { Command } from 'commander';
import { messageOf } from '../base/errors.ts';
import { parseDurationMs } from '../config/route.ts';
import type { DaemonOptions } from './client.ts';
import { withDaemonOptions } from './status.ts';
import { routeCall } from './route-show.ts';
import { daemonUseApi, RouteUseExit, type RouteUseApi, useCommand } from './route-use.ts';
import { cleanupCommand } from './route-cleanup.ts';

export { renderRouteShow } from './route-show.ts';
export { RouteUseExit, useCommand, type RouteUseApi } from './route-use.ts';
export { cleanupCommand } from './route-cleanup.ts';

export function registerRouteCommands(program: Command): void {
  const route = program.command('route').description('Uplink failover: show, steer, clean up');
  const globals = (cmd: Command): { config?: string } => cmd.optsWithGlobals<{ config?: string }>();
  withDaemonOptions(route.command('show').description('Active uplink, health, managed routes, recent switches'))
    .option('--json', 'print the JSON document')
    .action(async (o: DaemonOptions & { json?: boolean }, cmd: Command) => {
      process.exitCode = await routeCall({ ...o, ...globals(cmd) }, 'GET', '/v1/route', undefined, process.stdout, process.stderr);
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
      process.exitCode = await routeCall({ ...o, ...globals(cmd), json: true }, 'POST', '/v1/route/auto', {}, process.stdout, process.stderr);
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
