/** `linkward status [--json]`: asks the running daemon and prints a summary; exit code says the link state. */
import type { Command } from 'commander';
import { daemonGet, daemonTarget, type DaemonOptions } from './client.ts';
import { Exit } from '../exit-codes.ts';
import { isLwError } from '../errors.ts';
import type { LinkSnapshot } from '../core/types.ts';

interface StatusDoc {
  version: string;
  node: string;
  uptimeSeconds: number;
  ready: boolean;
  notReadyReasons: string[];
  link: LinkSnapshot | null;
  components: Record<string, { state: string; message?: string }>;
}

/** Exit code for a node link state: 0 healthy, 1 degraded, 2 down or unknown. */
export function exitForHealth(health: string | undefined): number {
  if (health === 'healthy') return Exit.OK;
  if (health === 'degraded') return Exit.DEGRADED;
  return Exit.DOWN;
}

function num(v: number | undefined, unit: string): string {
  return v === undefined ? '—' : `${Math.round(v * 10) / 10}${unit}`;
}

/** Human summary of a status document. */
export function formatStatus(s: StatusDoc): string {
  const lines = [`linkward ${s.version} on ${s.node} — up ${s.uptimeSeconds}s, ${s.ready ? 'ready' : `not ready (${s.notReadyReasons.join('; ')})`}`];
  const link = s.link;
  lines.push(`link: ${link?.node ?? 'unknown'}${link?.active ? ` (active uplink ${link.active})` : ''}${link ? '' : ' — no completed measurement yet'}`);
  for (const u of Object.values(link?.uplinks ?? {})) {
    const l = u.latest;
    lines.push(`  ${u.name.padEnd(12)} ${u.health.padEnd(9)} down ${num(l.downloadMbps, 'Mbps')} up ${num(l.uploadMbps, 'Mbps')} rtt ${num(l.rttMs, 'ms')} jitter ${num(l.jitterMs, 'ms')} loss ${num(l.lossPercent, '%')}${u.reasons.length ? `  (${u.reasons.join(' ')})` : ''}`);
  }
  lines.push('components:');
  for (const [name, c] of Object.entries(s.components)) lines.push(`  ${name.padEnd(12)} ${c.state.padEnd(9)} ${c.message ?? ''}`.trimEnd());
  return lines.join('\n') + '\n';
}

export async function statusCommand(opts: DaemonOptions & { json?: boolean }): Promise<number> {
  let doc: StatusDoc;
  try {
    const r = await daemonGet<StatusDoc>(await daemonTarget(opts), '/v1/status');
    if (r.status === 401) {
      process.stderr.write('the daemon requires a token: pass --token or set LINKWARD_TOKEN (or server.token in the config)\n');
      return Exit.UNREACHABLE;
    }
    if (r.status !== 200) {
      process.stderr.write(`daemon answered ${r.status}\n`);
      return Exit.UNREACHABLE;
    }
    doc = r.body;
  } catch (e) {
    process.stderr.write(`${isLwError(e) ? e.message : String(e)}\n`);
    return Exit.UNREACHABLE;
  }
  process.stdout.write(opts.json ? JSON.stringify(doc, null, 2) + '\n' : formatStatus(doc));
  return exitForHealth(doc.link?.node);
}

/** Adds the options every daemon-talking command shares. */
export function withDaemonOptions(cmd: Command): Command {
  return cmd.option('--address <host:port>', 'daemon address (default: server.listen from the config)').option('--token <token>', 'bearer token (default: $LINKWARD_TOKEN or server.token)');
}

export function registerStatusCommand(program: Command): void {
  withDaemonOptions(program.command('status').description('Show the running daemon\'s state; exit 0 healthy, 1 degraded, 2 down/unknown, 3 daemon unreachable'))
    .option('--json', 'print the full status document as JSON')
    .action(async (o: { json?: boolean; address?: string; token?: string }, cmd: Command) => {
      process.exitCode = await statusCommand({ ...o, config: cmd.optsWithGlobals<{ config?: string }>().config });
    });
}
