/** `linkward node show|release`: desired vs actual node decorations; remove every linkward decoration (works without the daemon). */
import type { Command } from 'commander';
import { loadConfig, resolveConfigPath } from '../config/load.ts';
import { ErrorCode, isLwError, LwError, messageOf } from '../base/errors.ts';
import { isLwCode } from '../base/error-codes.ts';
import { Exit, exitForError, exitForStatus } from './exit-codes.ts';
import type { NodeApi } from '../k8s/api.ts';
import { findCluster } from '../k8s/cluster.ts';
import { K8sErrorCode } from '../k8s/errors.ts';
import { FleetSemaphore } from '../k8s/fleet.ts';
import { releaseNode } from '../k8s/release.ts';
import { summarizeNode, type ActualSummary } from '../k8s/summary.ts';
import { daemonGet, daemonPost, daemonTarget, type DaemonOptions } from './client.ts';
import { withDaemonOptions } from './status.ts';

type Out = NodeJS.WritableStream;

export interface NodeCliOptions extends DaemonOptions {
  json?: boolean;
  direct?: boolean;
  dryRun?: boolean;
}

/** Dependencies a test can replace (the API factory). */
export interface NodeCliDeps {
  createApi?: (o: NodeCliOptions) => Promise<{ api: NodeApi; nodeName: string; conditionType: string; fleet: FleetSemaphore }>;
}

/** The decorations part of /v1/node (desired or actual), as the daemon sends it. */
interface DecorationsJson {
  labels?: Record<string, string>;
  taints?: { key: string; value?: string; effect: string }[];
  cordoned?: boolean;
  condition?: { status: string; reason?: string; message?: string } | null;
}

function fmtDecorations(d: DecorationsJson | null): string[] {
  if (!d) return ['    (unknown)'];
  const lines = [
    `    labels:    ${
      Object.entries(d.labels ?? {})
        .map(([k, v]) => `${k}=${v}`)
        .join(' ') || '-'
    }`,
  ];
  lines.push(`    taints:    ${(d.taints ?? []).map((t) => `${t.key}=${t.value ?? ''}:${t.effect}`).join(' ') || '-'}`);
  lines.push(`    cordoned:  ${d.cordoned ? 'yes' : 'no'}`);
  lines.push(`    condition: ${d.condition ? `${d.condition.status} ${d.condition.reason ?? ''} — ${d.condition.message ?? ''}` : '-'}`);
  return lines;
}

/** Human rendering of GET /v1/node (or of a direct read, where `desired` is null). */
export function renderNodeShow(d: Record<string, unknown>): string {
  const prefix = `node ${String(d.node)}: `;
  // Older daemons put the prefix in the message already: never print it twice.
  const msg = String(d.message ?? d.state ?? '');
  const lines = [
    `${prefix}${msg.startsWith(prefix) ? msg.slice(prefix.length) : msg}${d.dryRun ? ' (dry run)' : ''}${d.paused ? ' (paused after release)' : ''}`,
  ];
  if (d.source) lines.push(`  cluster: ${String(d.source)}`);
  const pause = d.adminPause as { untilMs: number | null; value: string; invalid: boolean } | null | undefined;
  if (pause)
    lines.push(
      `  PAUSED by annotation linkward.io/paused${pause.untilMs ? ` until ${new Date(pause.untilMs).toISOString()}` : ' (no end)'}${pause.invalid ? ` — value "${pause.value}" not understood` : ''}: no taint, cordon or drain`,
    );
  const yielded = (d.yielded as string[] | undefined) ?? [];
  if (yielded.length) lines.push(`  left off (removed by someone else, until the link state changes): ${yielded.join(', ')}`);
  const api = d.api as { reachable: boolean | null; lastSuccessMs: number | null; failures: number; backingOffMs?: number } | null | undefined;
  if (api) {
    const last = api.lastSuccessMs ? `last answer ${new Date(api.lastSuccessMs).toISOString()}` : 'never answered';
    lines.push(
      `  api: ${api.reachable === false ? `UNREACHABLE (${api.failures} failed in a row; ${last}${api.backingOffMs ? `; next try in ${Math.ceil(api.backingOffMs / 1000)} s` : ''})` : api.reachable ? `reachable (${last})` : 'not contacted yet'}`,
    );
  }
  lines.push('  desired:', ...fmtDecorations(d.desired as DecorationsJson | null));
  for (const n of (d.desired as { notes?: string[] } | null)?.notes ?? []) lines.push(`    note:      ${n}`);
  lines.push('  actual:', ...fmtDecorations(d.actual as DecorationsJson | null));
  const owned = (d.actual as ActualSummary | null)?.owned;
  if (owned)
    lines.push(
      `  owned by linkward: labels ${owned.labels.join(',') || '-'}; taints ${owned.taints.map((t) => `${t.key}:${t.effect}`).join(',') || '-'}; cordon ${owned.cordon ? 'yes' : 'no'}`,
    );
  const pending = (d.pending as string[] | undefined) ?? [];
  lines.push(`  pending: ${pending.length ? pending.join('; ') : 'none (in sync)'}`);
  const err = d.lastError as { code: string; message: string } | null | undefined;
  if (err) lines.push(`  last error: ${err.code}: ${err.message}`);
  const fleet = d.fleet as { held?: boolean; reason?: string } | undefined;
  if (fleet) lines.push(`  fleet hold: ${fleet.held ? 'held' : 'not held'}${fleet.reason ? ` (${fleet.reason})` : ''}`);
  const drain = d.drain as { running: boolean; summary?: string } | null | undefined;
  if (drain) lines.push(`  drain: ${drain.running ? 'running' : 'finished'}${drain.summary ? ` (${drain.summary.replace(/^drain: /, '')})` : ''}`);
  return lines.join('\n') + '\n';
}

async function directApi(o: NodeCliOptions): Promise<{ api: NodeApi; nodeName: string; conditionType: string; fleet: FleetSemaphore }> {
  const loaded = loadConfig(resolveConfigPath(o.config));
  const k = loaded.config.kubernetes;
  const source = findCluster(k.kubeconfig);
  if (!source)
    throw new LwError(
      K8sErrorCode.NO_CLUSTER,
      'no Kubernetes cluster found: set kubernetes.kubeconfig, $KUBECONFIG, or run where /etc/rancher/k3s/k3s.yaml exists',
    );
  const { createApiFor } = await import('../k8s/adapters.ts');
  const api = await createApiFor(k.client, source, k.requestTimeoutMs);
  return { api, nodeName: loaded.nodeName, conditionType: k.conditionType, fleet: new FleetSemaphore(api, k.fleet, loaded.nodeName) };
}

/** The daemon's error answer as an LwError with the daemon's code (LW_INTERNAL when it gave none it could have sent). */
function refused(r: { status: number; body: Record<string, unknown> | null }): LwError {
  const error = r.body?.error as { code?: unknown; message?: unknown } | undefined;
  const message = typeof error?.message === 'string' ? error.message : `daemon answered ${r.status}`;
  return new LwError(isLwCode(error?.code) ? error.code : ErrorCode.INTERNAL, message, { context: { status: r.status } });
}

const unreachable = (e: unknown): boolean => isLwError(e, ErrorCode.DAEMON_UNREACHABLE);

/** Exit code of a failure: a refusal by the daemon follows its HTTP status (4xx: the input, 2), anything else its code. */
function exitFor(e: unknown): number {
  const status = e instanceof LwError ? e.context?.status : undefined;
  return typeof status === 'number' ? exitForStatus(status) : exitForError(e);
}

/** `node show`: from the daemon; without it (or with --direct), reads the Node with the kubeconfig. */
export async function nodeShowCommand(o: NodeCliOptions, out: Out, err: Out, deps: NodeCliDeps = {}): Promise<number> {
  try {
    if (!o.direct) {
      try {
        const r = await daemonGet<Record<string, unknown>>(await daemonTarget(o), '/v1/node');
        if (r.status < 400) {
          out.write(o.json ? JSON.stringify(r.body) + '\n' : renderNodeShow(r.body));
          return Exit.OK;
        }
        if (r.status !== 404) throw refused(r);
      } catch (e) {
        if (!unreachable(e)) throw e;
      }
    }
    const d = await (deps.createApi ?? directApi)(o);
    const n = await d.api.getNode(d.nodeName);
    const body = {
      node: d.nodeName,
      source: d.api.source,
      message: 'read directly from the API (daemon not consulted: desired state unknown)',
      desired: null,
      actual: summarizeNode(n, d.conditionType),
    };
    out.write(o.json ? JSON.stringify(body) + '\n' : renderNodeShow(body));
    return Exit.OK;
  } catch (e) {
    err.write(`linkward node show: ${messageOf(e)}\n`);
    return isLwError(e, K8sErrorCode.NOT_FOUND) ? Exit.DOWN : exitFor(e);
  }
}

/** `node release`: via the daemon (which also pauses node actions), else directly with the kubeconfig. */
export async function nodeReleaseCommand(o: NodeCliOptions, out: Out, err: Out, deps: NodeCliDeps = {}): Promise<number> {
  try {
    if (!o.direct && !o.dryRun) {
      try {
        const r = await daemonPost<Record<string, unknown>>(await daemonTarget(o), '/v1/node/release', {});
        if (r.status < 400) {
          const changes = (r.body.changes as string[]) ?? [];
          out.write(
            o.json
              ? JSON.stringify(r.body) + '\n'
              : `released via the daemon (node actions paused until restart or POST /v1/node/resume): ${changes.join('; ') || 'nothing to remove'}\n`,
          );
          return Exit.OK;
        }
        if (r.status !== 404) throw refused(r);
      } catch (e) {
        if (!unreachable(e)) throw e;
      }
    }
    const d = await (deps.createApi ?? directApi)(o);
    const r = await releaseNode(d.api, d.nodeName, d.conditionType, o.dryRun ?? false);
    if (!o.dryRun) await d.fleet.release();
    out.write(
      o.json
        ? JSON.stringify(r) + '\n'
        : `${o.dryRun ? 'would remove' : 'removed'} on ${d.nodeName}: ${r.changes.join('; ') || 'nothing (no linkward decorations)'}\n`,
    );
    return Exit.OK;
  } catch (e) {
    err.write(`linkward node release: ${messageOf(e)}\n`);
    return exitFor(e);
  }
}

export function registerNodeCommands(program: Command): void {
  const node = program.command('node').description('Kubernetes node decorations (labels, condition, taints, cordon)');
  withDaemonOptions(node.command('show').description('Desired vs actual decorations of this Node'))
    .option('--json', 'as JSON')
    .option('--direct', 'read the Node with the kubeconfig instead of asking the daemon')
    .action(async (o: NodeCliOptions, cmd: Command) => {
      process.exitCode = await nodeShowCommand({ ...o, config: cmd.optsWithGlobals<{ config?: string }>().config }, process.stdout, process.stderr);
    });
  withDaemonOptions(node.command('release').description('Remove every linkward decoration from this Node (works without the daemon)'))
    .option('--json', 'as JSON')
    .option('--direct', 'use the kubeconfig directly even if the daemon runs')
    .option('--dry-run', 'print what would be removed; change nothing')
    .action(async (o: NodeCliOptions, cmd: Command) => {
      process.exitCode = await nodeReleaseCommand({ ...o, config: cmd.optsWithGlobals<{ config?: string }>().config }, process.stdout, process.stderr);
    });
}
