/** `linkward route cleanup`: puts the host's routes back as they were before linkward, locally (no daemon needed). */
import { loadConfig, resolveConfigPath } from '../config/load.ts';
import { messageOf } from '../base/errors.ts';
import { Exit } from './exit-codes.ts';
import { silentLogger } from '../base/log.ts';
import { createIpActuator, type RouteActuator } from '../route/actuator.ts';
import { cleanupCommands, familiesFor, renderCommands, resolveUplinks } from '../route/plan.ts';
import { restoreCommands } from '../route/restore.ts';
import { readOriginalDefaults } from '../route/store.ts';

type Out = NodeJS.WritableStream;

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
