/** deploy/monitoring: alert rules and their unit tests pass promtool, the scrape config is valid, every metric they use exists. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { REPO_ROOT } from '../../support/daemon.ts';

const KIT = join(REPO_ROOT, 'deploy', 'monitoring');
const PROMTOOL_TIMEOUT_MS = 30_000;

function promtool(args: string[]): { status: number | null; out: string } {
  const r = spawnSync('promtool', args, { cwd: KIT, encoding: 'utf8', timeout: PROMTOOL_TIMEOUT_MS });
  assert.equal(r.error, undefined, 'promtool not found: apt-get install prometheus (CI installs it in .ci/run)');
  return { status: r.status, out: r.stdout + r.stderr };
}

/** Every metric name the agent registers (read from the source: `name: 'linkward_…'`). */
function agentMetricNames(): Set<string> {
  const names = new Set<string>();
  const walk = (dir: string): void => {
    for (const f of readdirSync(dir)) {
      const p = join(dir, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.ts')) for (const m of readFileSync(p, 'utf8').matchAll(/name: '(linkward_[a-z0-9_]+)'/g)) names.add(m[1] as string);
    }
  };
  for (const d of ['agent', 'probes', 'buffer']) walk(join(REPO_ROOT, d));
  return names;
}

/** linkward_* names used in PromQL text (histogram suffixes mapped to their family). */
function usedNames(promql: string): string[] {
  return [...promql.matchAll(/\b(linkward_[a-z0-9_]+)/g)].map((m) => (m[1] as string).replace(/_(bucket|sum|count)$/, ''));
}

test('promtool: the alert rules check, their unit tests pass, the scrape config is valid', () => {
  const check = promtool(['check', 'rules', 'alerts.rules.yaml']);
  assert.equal(check.status, 0, check.out);
  const unit = promtool(['test', 'rules', 'alerts.test.yaml']);
  assert.equal(unit.status, 0, unit.out);
  const config = promtool(['check', 'config', 'prometheus.yaml']);
  assert.equal(config.status, 0, config.out);
});

test('every metric the rules and the dashboard query is one the agent registers; the dashboard is well formed', () => {
  const known = agentMetricNames();
  assert.ok(known.size > 40, `found the agent's metrics (${known.size})`);
  const rules = parse(readFileSync(join(KIT, 'alerts.rules.yaml'), 'utf8')) as { groups: { rules: { alert: string; expr: string }[] }[] };
  const dash = JSON.parse(readFileSync(join(KIT, 'grafana-dashboard.json'), 'utf8')) as {
    uid: string;
    panels: { id: number; title: string; targets: { expr: string }[] }[];
  };
  const exprs = [
    ...rules.groups.flatMap((g) => g.rules.map((r) => ({ where: `alert ${r.alert}`, expr: r.expr }))),
    ...dash.panels.flatMap((p) => p.targets.map((t) => ({ where: `panel ${p.title}`, expr: t.expr }))),
  ];
  const unknown = exprs.flatMap((e) =>
    usedNames(e.expr)
      .filter((n) => !known.has(n))
      .map((n) => `${e.where}: ${n}`),
  );
  assert.deepEqual(unknown, []);
  assert.equal(new Set(dash.panels.map((p) => p.id)).size, dash.panels.length, 'panel ids are unique');
  assert.ok(dash.panels.every((p) => p.targets.length > 0));
  assert.equal(dash.uid, 'linkward-edge');
});

test("the PodMonitor selects the DaemonSet's pods and scrapes a port the DaemonSet names", () => {
  const pm = parse(readFileSync(join(KIT, 'podmonitor.yaml'), 'utf8')) as {
    spec: { selector: { matchLabels: Record<string, string> }; podMetricsEndpoints: { port: string; path: string }[] };
  };
  const ds = parseAllDocuments(readFileSync(join(REPO_ROOT, 'deploy', 'fleet', 'base', 'daemonset.yaml'), 'utf8'))
    .map(
      (d) =>
        d.toJS() as {
          kind?: string;
          spec?: { template: { metadata: { labels: Record<string, string> }; spec: { containers: { ports?: { name: string; containerPort: number }[] }[] } } };
        },
    )
    .find((d) => d?.kind === 'DaemonSet');
  assert.ok(ds?.spec, 'deploy/fleet/base/daemonset.yaml has a DaemonSet');
  const labels = ds.spec.template.metadata.labels;
  for (const [k, v] of Object.entries(pm.spec.selector.matchLabels)) assert.equal(labels[k], v, `pod label ${k}`);
  const ports = ds.spec.template.spec.containers.flatMap((c) => c.ports ?? []);
  for (const ep of pm.spec.podMetricsEndpoints) {
    assert.ok(
      ports.some((p) => p.name === ep.port),
      `the DaemonSet names port ${ep.port}`,
    );
    assert.equal(ep.path, '/metrics');
  }
});
