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
import Database from 'better-sqlite3';
import { createRouteStore } from '../../../agent/route/store.ts';
import { FakeIp } from '../../support/route-fake-ip.ts';
import { twoUplinkKernel } from '../../support/route-context.ts';

function sink(): { s: PassThrough; text: () => string } {
  const s = new PassThrough();
  let t = '';
  s.on('data', (d: Buffer) => (t += d.toString()));
  return { s, text: () => t };
}

test('route cleanup removes linkward tables, rules and its default route (the host default stays); --dry-run only prints', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lwr-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const cfg = join(dir, 'config.yaml');
  writeFileSync(cfg, `state: { dir: ${dir} }\nuplinks:\n  - { name: wan, interface: eth0, gateway: 10.0.1.1 }\n  - { name: lte, interface: wwan0, gateway: 10.0.2.1 }\n`);
  const ip = twoUplinkKernel();
  ip.routes.push({ table: '7100', dst: 'default', gateway: '10.0.1.1', dev: 'eth0', metric: 0, protocol: '77' }, { table: 'main', dst: 'default', gateway: '10.0.2.1', dev: 'wwan0', metric: 0, protocol: '77' });
  ip.rules.push({ priority: 7100, src: '10.0.1.2', table: '7100' });
  const dry = sink();
  const err = sink();
  assert.equal(await cleanupCommand({ config: cfg, dryRun: true }, dry.s, err.s, createIpActuator({ runner: ip, log: silentLogger(), dryRun: true })), 0);
  assert.equal(dry.text(), 'ip route del default via 10.0.2.1 dev wwan0 metric 0 proto 77\nip rule del priority 7100 from 10.0.1.2 lookup 7100\nip route del default via 10.0.1.1 dev eth0 table 7100\n');
  assert.deepEqual(ip.log, []);
  const out = sink();
  assert.equal(await cleanupCommand({ config: cfg }, out.s, err.s, createIpActuator({ runner: ip, log: silentLogger() })), 0);
  assert.equal(ip.log.length, 3);
  assert.equal(ip.render(), 'ip route default via 10.0.1.1 dev eth0 metric 100 proto dhcp\nip link eth0 up\nip link wwan0 up', 'back to the host default (off the backup)');
  const again = sink();
  assert.equal(await cleanupCommand({ config: cfg }, again.s, err.s, createIpActuator({ runner: ip, log: silentLogger() })), 0);
  assert.equal(again.text(), 'nothing to clean up\n');
});

test('route cleanup puts back a remembered host default linkward overwrote, and never deletes the last default', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lwr-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const cfg = join(dir, 'config.yaml');
  writeFileSync(cfg, `state: { dir: ${dir} }\nuplinks:\n  - { name: wan, interface: eth0, gateway: 10.0.1.1 }\n  - { name: lte, interface: wwan0, gateway: 10.0.2.1 }\n`);
  // A static metric-0 default via eth0 was there; linkward's `replace` (metric 0) overwrote it when it moved to lte.
  const db = new Database(join(dir, 'state.db'));
  createRouteStore(db).saveOriginalDefaults({ families: [4], routes: [{ table: 'main', dst: 'default', gateway: '10.0.1.1', dev: 'eth0', metric: 0, protocol: 'static', type: 'unicast' }] });
  const ip = new FakeIp().addLink('eth0', '10.0.1.2/24').addLink('wwan0', '10.0.2.2/24');
  ip.routes.push({ table: 'main', dst: 'default', gateway: '10.0.2.1', dev: 'wwan0', metric: 0, protocol: '77' });
  const out = sink();
  const err = sink();
  assert.equal(await cleanupCommand({ config: cfg }, out.s, err.s, createIpActuator({ runner: ip, log: silentLogger() })), 0, err.text());
  assert.equal(out.text(), 'ip route replace default via 10.0.1.1 dev eth0 proto static\n');
  assert.equal(ip.render(), 'ip route default via 10.0.1.1 dev eth0 proto static\nip link eth0 up\nip link wwan0 up');
  // Nothing remembered and no host default: linkward's default is the last one and stays.
  rmSync(join(dir, 'state.db'));
  ip.routes = ip.routes.filter((r) => r.dst !== 'default');
  ip.routes.push({ table: 'main', dst: 'default', gateway: '10.0.2.1', dev: 'wwan0', metric: 0, protocol: '77' });
  const last = sink();
  assert.equal(await cleanupCommand({ config: cfg }, last.s, err.s, createIpActuator({ runner: ip, log: silentLogger() })), 0);
  assert.equal(last.text(), 'nothing to clean up\n');
  assert.ok(ip.routes.some((r) => r.dst === 'default'));
});

test('route cleanup on an unknown kernel read changes nothing and fails', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lwr-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const cfg = join(dir, 'config.yaml');
  writeFileSync(cfg, `state: { dir: ${dir} }\nuplinks:\n  - { name: wan, interface: eth0, gateway: 10.0.1.1 }\n  - { name: lte, interface: wwan0, gateway: 10.0.2.1 }\n`);
  const ip = twoUplinkKernel();
  ip.rules.push({ priority: 7100, src: '10.0.1.2', table: '7100' });
  ip.readFaults.push({ prefix: 'ip -4 -json rule', fault: 'empty', times: 100 });
  const out = sink();
  const err = sink();
  assert.equal(await cleanupCommand({ config: cfg }, out.s, err.s, createIpActuator({ runner: ip, log: silentLogger(), sleep: async () => undefined })), 1);
  assert.match(err.text(), /kernel routing state unknown/);
  assert.deepEqual(ip.log, []);
});

test('route show renders active, health, problems and history', () => {
  const text = renderRouteShow({ active: 'lte', mode: 'failover', override: null, routesManaged: true, k3s: { message: 'k3s not found: route switching allowed' }, lastDecision: 'wan is down', uplinks: [{ name: 'wan', priority: 10, interface: 'eth0', health: 'down' }, { name: 'lte', priority: 20, interface: 'wwan0', health: 'healthy' }], managed: [], problems: [], lastError: null, history: [{ atMs: 0, from: 'wan', to: 'lte', reason: 'failover', result: 'confirmed', detail: 'reached 1.2.3.4:443' }] });
  assert.match(text, /^active: lte   mode: failover/);
  assert.match(text, /\* lte +prio +20 +wwan0 +healthy/);
  assert.match(text, /1970-01-01T00:00:00.000Z wan → lte \(failover\) confirmed: reached 1\.2\.3\.4:443/);
});
