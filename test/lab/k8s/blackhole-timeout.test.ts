/** Lab (root): kubernetes.requestTimeoutMs bounds a call to a blackholed API server that needs a new connection (defect D2), for both clients, quiet and with CPU burners. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { removeNamespaces } from '../../support/netns.ts';
import { cpuVariants, startBurners } from '../../support/cpu-burners.ts';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** lwkb-c holds the client; lwkb-s holds the "API server" address, whose nft rule drops every SYN to it. */
const NS = { client: 'lwkb-c', server: 'lwkb-s' } as const;
const SERVER = '10.209.0.2';
const PORT = 6443;
const CHILD = new URL('../../support/k8s-blackhole-client.ts', import.meta.url).pathname;
/** The timeout under test: short, so a connect left to undici's own 10 s default shows as a clear miss. */
const REQUEST_TIMEOUT_MS = 1_500;
/** Allowed lateness of the failure on a busy 2-core machine (the defect was 6.5–9 s late). */
const SLACK_MS = 1_000;
const CALLS = 2;

const run = (cmd: string, ...args: string[]): string =>
  execFileSync(cmd, args, { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' }, timeout: 10_000, stdio: ['ignore', 'pipe', 'pipe'] });

const removeLabNamespaces = (): void => removeNamespaces(Object.values(NS));

let dir = '';
before(() => {
  if (process.getuid?.() !== 0) assert.fail('k8s blackhole lab needs root (ip netns, nft): run as root in CI');
  removeLabNamespaces();
  for (const ns of Object.values(NS)) run('ip', 'netns', 'add', ns);
  run('ip', 'link', 'add', 'lwkb-c0', 'type', 'veth', 'peer', 'name', 'lwkb-s0');
  run('ip', 'link', 'set', 'lwkb-c0', 'netns', NS.client);
  run('ip', 'link', 'set', 'lwkb-s0', 'netns', NS.server);
  run('ip', '-n', NS.client, 'addr', 'add', '10.209.0.1/24', 'dev', 'lwkb-c0');
  run('ip', '-n', NS.server, 'addr', 'add', `${SERVER}/24`, 'dev', 'lwkb-s0');
  for (const [ns, dev] of [
    [NS.client, 'lwkb-c0'],
    [NS.server, 'lwkb-s0'],
  ] as const) {
    run('ip', '-n', ns, 'link', 'set', 'lo', 'up');
    run('ip', '-n', ns, 'link', 'set', dev, 'up');
  }
  run('ip', 'netns', 'exec', NS.server, 'nft', 'add', 'table', 'inet', 'lwkb');
  run('ip', 'netns', 'exec', NS.server, 'nft', 'add', 'chain', 'inet', 'lwkb', 'input', '{ type filter hook input priority 0; policy accept; }');
  run('ip', 'netns', 'exec', NS.server, 'nft', 'add', 'rule', 'inet', 'lwkb', 'input', 'tcp', 'dport', String(PORT), 'drop');
  dir = mkdtempSync(join(tmpdir(), 'lwkb-'));
  writeFileSync(
    join(dir, 'kubeconfig'),
    [
      'apiVersion: v1',
      'kind: Config',
      'current-context: lab',
      `clusters: [{ name: lab, cluster: { server: "https://${SERVER}:${PORT}", insecure-skip-tls-verify: true } }]`,
      'users: [{ name: lab, user: { token: lab-token } }]',
      'contexts: [{ name: lab, context: { cluster: lab, user: lab } }]',
      '',
    ].join('\n'),
  );
});
after(() => {
  removeLabNamespaces();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function callsThrough(client: 'lean' | 'client-node'): Promise<Record<string, unknown>[]> {
  const child = spawn(
    'ip',
    ['netns', 'exec', NS.client, process.execPath, CHILD, join(dir, 'kubeconfig'), client, String(REQUEST_TIMEOUT_MS), String(CALLS), SERVER, String(PORT)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(code, 0, `child failed: ${err}`);
  return out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

for (const busy of cpuVariants())
  for (const client of ['lean', 'client-node'] as const) {
    test(`${client} client: a call to a blackholed API server fails with LW_K8S_TIMEOUT within requestTimeoutMs (${REQUEST_TIMEOUT_MS} ms) + ${SLACK_MS} ms${busy ? ' (CPU burners on every core at its priority)' : ''}`, {
      timeout: 60_000,
    }, async (t) => {
      // Burners first: the client starts, connects and times out on a saturated CPU (timers fire late there).
      const burners = busy ? startBurners() : null;
      t.after(() => burners?.stop());
      const lines = await callsThrough(client);
      for (const l of lines) t.diagnostic(JSON.stringify(l));
      assert.equal(lines[0]!.raw, 'pending', 'the address is a blackhole: a bare TCP connect neither connects nor is refused');
      const calls = lines.slice(1);
      assert.equal(calls.length, CALLS);
      for (const c of calls) {
        assert.equal(c.code, 'LW_K8S_TIMEOUT', `call ${c.call}: ${c.message}`);
        assert.ok((c.ms as number) >= REQUEST_TIMEOUT_MS - 50, `call ${c.call} failed before the timeout: ${c.ms} ms`);
        assert.ok((c.ms as number) <= REQUEST_TIMEOUT_MS + SLACK_MS, `call ${c.call} took ${c.ms} ms, more than ${REQUEST_TIMEOUT_MS} + ${SLACK_MS} ms`);
      }
    });
  }
