/** k3s pinning detection from config files, unit ExecStart and running cmdlines. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { k3sPinning, readK3sFacts, splitExecStart, type K3sFacts } from '../../../agent/route/k3s.ts';

const none: K3sFacts = { configs: [], unitArgs: [], cmdlines: [], binary: false };

test('no k3s: switching allowed', () => {
  const p = k3sPinning(none);
  assert.deepEqual([p.present, p.pinned], [false, false]);
  assert.match(p.message, /k3s not found/);
});

test('k3s without pins: refused with the fix in the message', () => {
  const p = k3sPinning({ ...none, binary: true, configs: ['token: x\n'] });
  assert.deepEqual([p.present, p.pinned], [true, false]);
  assert.match(p.message, /does not pin --node-ip and --flannel-iface.*config\.yaml.*allowUnpinnedK3s/);
});

test('pins from config.yaml (scalar or list), from ExecStart flags, from a running cmdline', () => {
  assert.equal(k3sPinning({ ...none, configs: ['node-ip: 10.0.0.5\nflannel-iface: eth0\n'] }).pinned, true);
  assert.equal(k3sPinning({ ...none, configs: ['node-ip:\n  - 10.0.0.5\n', 'flannel-iface: wg0\n'] }).flannelIface, 'wg0');
  assert.equal(k3sPinning({ ...none, unitArgs: [['/usr/local/bin/k3s', 'server', '--node-ip=10.0.0.5', '--flannel-iface', 'eth0']] }).pinned, true);
  assert.equal(k3sPinning({ ...none, cmdlines: [['/usr/local/bin/k3s', 'agent', '--node-ip', '10.0.0.5', '--flannel-backend=none']] }).pinned, true);
  const half = k3sPinning({ ...none, unitArgs: [['/usr/local/bin/k3s', 'server', '--node-ip=10.0.0.5']] });
  assert.equal(half.pinned, false);
  assert.match(half.message, /does not pin --flannel-iface:/);
});

test('ExecStart splitting handles continuations and quotes', () => {
  const unit =
    '[Service]\nType=notify\nExecStart=/usr/local/bin/k3s \\\n    server \\\n    \'--node-ip=10.1.1.1\' \\\n    "--flannel-iface" eth1\nKillMode=process\n';
  assert.deepEqual(splitExecStart(unit), ['/usr/local/bin/k3s', 'server', '--node-ip=10.1.1.1', '--flannel-iface', 'eth1']);
});

test('readK3sFacts reads config, drop-ins, units and /proc from given paths', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lwr-k3s-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'etc', 'config.yaml.d'), { recursive: true });
  writeFileSync(join(dir, 'etc', 'config.yaml'), 'node-ip: 10.0.0.9\n');
  writeFileSync(join(dir, 'etc', 'config.yaml.d', '10-net.yaml'), 'flannel-iface: eth0\n');
  mkdirSync(join(dir, 'proc', '42'), { recursive: true });
  writeFileSync(join(dir, 'proc', '42', 'cmdline'), '/usr/local/bin/k3s\0server\0--node-ip=10.0.0.7\0');
  mkdirSync(join(dir, 'proc', '43'), { recursive: true });
  writeFileSync(join(dir, 'proc', '43', 'cmdline'), 'bash\0-c\0k3s server\0');
  const facts = readK3sFacts({ configDir: join(dir, 'etc'), unitFiles: [join(dir, 'missing.service')], binaries: [], proc: join(dir, 'proc') });
  assert.equal(facts.configs.length, 2);
  assert.deepEqual(facts.cmdlines, [['/usr/local/bin/k3s', 'server', '--node-ip=10.0.0.7']]);
  const p = k3sPinning(facts);
  assert.deepEqual([p.pinned, p.nodeIp, p.flannelIface], [true, '10.0.0.7', 'eth0']);
});
