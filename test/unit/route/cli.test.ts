/** `linkward route` CLI: cleanup against a fake kernel (dry-run and real), and the `show` rendering. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { cleanupCommand, renderRouteShow } from '../../../agent/cli/route.ts';
import { silentLogger } from '../../../agent/log.ts';
import { createIpActuator } from '../../../agent/route/actuator.ts';
import { twoUplinkKernel } from '../../support/route-context.ts';

function sink(): { s: PassThrough; text: () => string } {
  const s = new PassThrough();
  let t = '';
  s.on('data', (d: Buffer) => (t += d.toString()));
  return { s, text: () => t };
}

test('route cleanup removes linkward tables and rules, keeps the main default; --dry-run only prints', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lwr-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const cfg = join(dir, 'config.yaml');
  writeFileSync(cfg, 'uplinks:\n  - { name: wan, interface: eth0, gateway: 10.0.1.1 }\n  - { name: lte, interface: wwan0, gateway: 10.0.2.1 }\n');
  const ip = twoUplinkKernel();
  ip.routes.push({ table: '7100', dst: 'default', gateway: '10.0.1.1', dev: 'eth0', metric: 0, protocol: '77' }, { table: 'main', dst: 'default', gateway: '10.0.2.1', dev: 'wwan0', metric: 0, protocol: '77' });
  ip.rules.push({ priority: 7100, src: '10.0.1.2', table: '7100' });
  const dry = sink();
  const err = sink();
  assert.equal(await cleanupCommand({ config: cfg, dryRun: true }, dry.s, err.s, createIpActuator({ runner: ip, log: silentLogger(), dryRun: true })), 0);
  assert.equal(dry.text(), 'ip rule del priority 7100 from 10.0.1.2 lookup 7100\nip route del default via 10.0.1.1 dev eth0 table 7100\n');
  assert.deepEqual(ip.log, []);
  const out = sink();
  assert.equal(await cleanupCommand({ config: cfg }, out.s, err.s, createIpActuator({ runner: ip, log: silentLogger() })), 0);
  assert.equal(ip.log.length, 2);
  assert.ok(ip.routes.some((r) => r.table === 'main' && r.dst === 'default' && r.protocol === '77'), 'main default kept');
  const again = sink();
  assert.equal(await cleanupCommand({ config: cfg }, again.s, err.s, createIpActuator({ runner: ip, log: silentLogger() })), 0);
  assert.equal(again.text(), 'nothing to clean up\n');
});

test('route show renders active, health, problems and history', () => {
  const text = renderRouteShow({ active: 'lte', mode: 'failover', override: null, routesManaged: true, k3s: { message: 'k3s not found: route switching allowed' }, lastDecision: 'wan is down', uplinks: [{ name: 'wan', priority: 10, interface: 'eth0', health: 'down' }, { name: 'lte', priority: 20, interface: 'wwan0', health: 'healthy' }], managed: [], problems: [], lastError: null, history: [{ atMs: 0, from: 'wan', to: 'lte', reason: 'failover', result: 'confirmed', detail: 'reached 1.2.3.4:443' }] });
  assert.match(text, /^active: lte   mode: failover/);
  assert.match(text, /\* lte +prio +20 +wwan0 +healthy/);
  assert.match(text, /1970-01-01T00:00:00.000Z wan → lte \(failover\) confirmed: reached 1\.2\.3\.4:443/);
});
