/** Every kubelet httpGet probe aimed at the agent asks a path the real agent serves publicly (built dist, real HTTP). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { onJsonLines } from '../../support/json-lines.ts';
import { agentConfigText, kustomizeDirs, parseYamlObjects, render, ROOT, type K8sObject } from './render.ts';

/** The agent's default listener (agent/config/schema.ts DEFAULT_LISTEN): manifests probe this port. */
const AGENT_PORT = 9780;
/** Start-to-ready is ~0.4 s here; 20 s covers a loaded CI machine. */
const READY_TIMEOUT_MS = 20_000;

interface Probe {
  where: string;
  kind: string;
  host?: string;
  port: number | string;
  path: string;
}
type Container = { name: string; command?: string[]; args?: string[]; ports?: { name?: string; containerPort: number }[] } & Record<
  string,
  { httpGet?: { host?: string; port: number | string; path: string }; tcpSocket?: { port: number | string } } | unknown
>;

function containers(o: K8sObject): Container[] {
  const spec = (o.spec as { template?: { spec?: { containers?: Container[]; initContainers?: Container[] } } } | undefined)?.template?.spec;
  return [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])];
}

function httpProbes(where: string, objects: K8sObject[]): Probe[] {
  return objects.flatMap((o) =>
    containers(o).flatMap((c) =>
      (['startupProbe', 'livenessProbe', 'readinessProbe'] as const).flatMap((kind) => {
        const g = (c[kind] as { httpGet?: { host?: string; port: number | string; path: string } } | undefined)?.httpGet;
        return g ? [{ where: `${where} ${o.kind}/${o.metadata.name} ${c.name}.${kind}`, kind, host: g.host, port: g.port, path: g.path }] : [];
      }),
    ),
  );
}

const sources = [
  ...kustomizeDirs().map((d) => ({ where: d, objects: render(d) })),
  ...readdirSync(join(ROOT, 'deploy', 'examples')).map((f) => ({
    where: `examples/${f}`,
    objects: parseYamlObjects(readFileSync(join(ROOT, 'deploy', 'examples', f), 'utf8'), f),
  })),
];
const probes = sources.flatMap((s) => httpProbes(s.where, s.objects));

async function startAgent(configText: string): Promise<{ base: string; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'lw-probe-paths-'));
  const cfg = parse(configText) as Record<string, unknown>;
  // The manifests' own config, made local: ephemeral loopback port, temp state, no cluster, a closed loopback target.
  Object.assign(cfg, { server: { listen: '127.0.0.1:0' }, state: { dir }, node: { name: 'probe-paths' }, log: { level: 'info' } });
  Object.assign(cfg, { kubernetes: { ...(cfg.kubernetes as object), enabled: false }, probes: { ...(cfg.probes as object), targets: ['127.0.0.1:9'] } });
  writeFileSync(join(dir, 'config.yaml'), stringify(cfg));
  const child = spawn(process.execPath, [join(ROOT, 'dist', 'linkward.mjs'), '--config', join(dir, 'config.yaml'), 'run'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise((r) => child.on('exit', r));
  let base = '';
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  await new Promise<void>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`agent not ready in ${READY_TIMEOUT_MS} ms: ${stderr}`)), READY_TIMEOUT_MS);
    onJsonLines(child.stdout, (rec) => {
      if (rec.msg === 'linkward listening') base = `http://${String(rec.listen)}`;
      if (rec.msg === 'linkward ready') {
        clearTimeout(timer);
        res();
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      rej(new Error(`agent exited ${String(code)}: ${stderr}`));
    });
  });
  return {
    base,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

test('manifests probe the agent over HTTP: readiness of gated apps on /readyz/link, the agent on /healthz and /readyz', () => {
  const agentProbes = probes.filter((p) => p.port === AGENT_PORT);
  assert.ok(agentProbes.length >= 10, `${agentProbes.length} agent probes`);
  for (const p of agentProbes) assert.equal(p.host, '127.0.0.1', `${p.where}: the kubelet reaches the agent on the node's loopback`);
  const gated = agentProbes.filter((p) => p.where.startsWith('examples/'));
  assert.ok(gated.length > 0 && gated.every((p) => p.path.startsWith('/readyz/link')), 'app examples gate on /readyz/link');
  assert.ok(
    probes.every((p) => p.port === AGENT_PORT),
    `only the agent is probed over HTTP: ${JSON.stringify(probes.filter((p) => p.port !== AGENT_PORT))}`,
  );
});

test('every probed path is served by the real agent, publicly, with a probe answer (200 or 503)', async () => {
  const config = agentConfigText(render('base'));
  assert.ok(config);
  const agent = await startAgent(config);
  try {
    const paths = [...new Set(probes.map((p) => p.path))];
    assert.ok(paths.includes('/readyz/link') || paths.some((p) => p.startsWith('/readyz/link?')), 'a /readyz/link probe exists');
    for (const path of paths) {
      const r = await fetch(`${agent.base}${path}`);
      const body = await r.text();
      assert.ok(r.status === 200 || r.status === 503, `${path}: ${r.status} ${body}`);
      // /readyz/link echoes the thresholds it understood: each query parameter of the probe must be among them.
      const params = [...new URL(path, agent.base).searchParams.keys()];
      if (path.startsWith('/readyz/link'))
        assert.equal(Object.keys((JSON.parse(body) as { query: object }).query).length, params.length, `${path}: every parameter understood (${body})`);
      else assert.deepEqual(params, [], `${path}: no query`);
    }
    // The check is live: a misspelt path is refused, and a misspelt parameter shows up as not understood.
    assert.equal((await fetch(`${agent.base}/readyz/lnk`)).status, 404);
    const typo = (await (await fetch(`${agent.base}/readyz/link?minDwn=10`)).json()) as { query: object };
    assert.deepEqual(typo.query, {});
  } finally {
    await agent.stop();
  }
});

test('the probe server overlay probes the port it listens on, with flags the CLI has', () => {
  const hub = render('overlays/probe-server');
  const c = containers(hub.find((o) => o.kind === 'Deployment') as K8sObject)[0] as Container;
  const cmd = c.command ?? [];
  const listenPort = Number(cmd[cmd.indexOf('--listen') + 1]?.split(':').pop());
  const tcp = c.ports?.find((p) => p.name === 'probe-tcp');
  assert.equal(tcp?.containerPort, listenPort);
  for (const kind of ['readinessProbe', 'livenessProbe']) assert.equal((c[kind] as { tcpSocket?: { port: string } }).tcpSocket?.port, 'probe-tcp');
  const help = spawnSync(process.execPath, [join(ROOT, 'dist', 'linkward.mjs'), 'probe-server', '--help'], { encoding: 'utf8', timeout: 30_000 });
  for (const flag of cmd.filter((a) => a.startsWith('--'))) assert.ok(help.stdout.includes(flag), `probe-server has ${flag}`);
});
