/** `linkward node show|release` against the test API server: via the daemon routes and directly with the kubeconfig. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../support/kube-apiserver/kubeconfig.ts';
import { PassThrough } from 'node:stream';
import { nodeReleaseCommand, nodeShowCommand } from '../../../agent/cli/node.ts';
import { settle, startHarness, waitFor } from '../../support/k8s-harness.ts';
import { LABEL_LINK_STATE } from '../../../agent/k8s/types.ts';

function sink(): { s: PassThrough; text: () => string } {
  const s = new PassThrough();
  let buf = '';
  s.on('data', (c: Buffer) => (buf += c.toString()));
  return { s, text: () => buf };
}

function configFile(kubeconfig: string, listen: string): string {
  const dir = tempDir('k8s-cli-');
  const p = join(dir, 'config.yaml');
  writeFileSync(p, `node:\n  name: n1\nserver:\n  listen: ${listen}\nkubernetes:\n  kubeconfig: ${kubeconfig}\n  requestTimeoutMs: 2000\n`);
  return p;
}

test('node show/release via the daemon routes, then directly without a daemon', async (t) => {
  const h = await startHarness(['n1']);
  t.after(() => h.close());
  const a = await h.agent('n1', { tiers: { down: { cordon: true } } });
  a.emit('down', 0.5);
  await waitFor('down', () => h.node('n1').unschedulable);
  await settle(h.api);
  // Serve the component's routes like the agent's HTTP server does.
  const routes = a.component.routes?.() ?? [];
  const srv = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const r = routes.find((x) => x.method === req.method && x.path === url.pathname);
    if (!r) {
      res.writeHead(404).end('{}');
      return;
    }
    void r.handle(req, res, url);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  t.after(() => srv.close());
  const port = (srv.address() as { port: number }).port;
  const cfg = configFile(h.kubeconfig, `127.0.0.1:${port}`);
  const out = sink();
  const err = sink();
  assert.equal(await nodeShowCommand({ config: cfg }, out.s, err.s), 0, err.text());
  assert.match(out.text(), /desired:[\s\S]*linkward.io\/link-state=down[\s\S]*actual:[\s\S]*cordoned:  yes/);
  assert.match(out.text(), /pending: none \(in sync\)/);
  const rel = sink();
  assert.equal(await nodeReleaseCommand({ config: cfg }, rel.s, err.s), 0, err.text());
  assert.match(rel.text(), /released via the daemon/);
  let n = h.node('n1');
  assert.equal(n.unschedulable, false);
  assert.equal(n.labels[LABEL_LINK_STATE], undefined);
  assert.deepEqual(n.taints, []);
  // Paused: a new snapshot does not re-decorate.
  a.emit('down', 0.4);
  h.clock.advance(120_000);
  await settle(h.api);
  assert.equal(h.node('n1').labels[LABEL_LINK_STATE], undefined);

  // Directly (no daemon listening on port 1): re-decorate by hand and release with the kubeconfig.
  const cur = h.api.store.get('nodes', '', 'n1');
  assert.ok(cur?.metadata);
  (cur.metadata.labels as Record<string, string>)[LABEL_LINK_STATE] = 'down';
  h.api.seed('nodes', cur);
  const cfg2 = configFile(h.kubeconfig, '127.0.0.1:1');
  const show = sink();
  assert.equal(await nodeShowCommand({ config: cfg2 }, show.s, err.s), 0, err.text());
  assert.match(show.text(), /read directly from the API/);
  const dry = sink();
  assert.equal(await nodeReleaseCommand({ config: cfg2, dryRun: true }, dry.s, err.s), 0, err.text());
  assert.match(dry.text(), /would remove on n1: remove label linkward.io\/link-state/);
  assert.equal(h.node('n1').labels[LABEL_LINK_STATE], 'down', 'dry run changed nothing');
  const direct = sink();
  assert.equal(await nodeReleaseCommand({ config: cfg2 }, direct.s, err.s), 0, err.text());
  n = h.node('n1');
  assert.equal(n.labels[LABEL_LINK_STATE], undefined);
});
