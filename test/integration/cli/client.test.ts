/** CLI → daemon client: input mistakes are config errors, an absent daemon is "unreachable", and nothing hangs. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { daemonGet, daemonTarget } from '../../../agent/cli/client.ts';
import { codeOf } from '../../../agent/base/errors.ts';

test('a token with a trailing newline or a non-http URL is LW_CONFIG_INVALID, not "unreachable"', async () => {
  await assert.rejects(
    daemonGet({ baseUrl: 'http://127.0.0.1:1', token: 'abcdefghijklmnop\n' }, '/v1/status'),
    (e: unknown) => codeOf(e) === 'LW_CONFIG_INVALID' && /control characters/.test(String((e as Error).message)),
  );
  await assert.rejects(daemonGet({ baseUrl: 'ftp://127.0.0.1:1', token: undefined }, '/v1/status'), (e: unknown) => codeOf(e) === 'LW_CONFIG_INVALID');
});

test('nobody listening → LW_DAEMON_UNREACHABLE; a daemon that never answers → unreachable within the timeout', async (t) => {
  await assert.rejects(daemonGet({ baseUrl: 'http://127.0.0.1:1', token: undefined }, '/v1/status'), (e: unknown) => codeOf(e) === 'LW_DAEMON_UNREACHABLE');
  const silent = createServer(() => {
    /* never answers */
  });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  t.after(() => {
    silent.closeAllConnections();
    silent.close();
  });
  const port = (silent.address() as AddressInfo).port;
  const t0 = Date.now();
  await assert.rejects(
    daemonGet({ baseUrl: `http://127.0.0.1:${port}`, token: undefined }, '/v1/status', 300),
    (e: unknown) => codeOf(e) === 'LW_DAEMON_UNREACHABLE' && /within 300 ms/.test(String((e as Error).message)),
  );
  assert.ok(Date.now() - t0 < 5_000, 'bounded by the timeout');
});

test('with --address and --token given, no config file is read (a missing one does not matter)', async () => {
  delete process.env.LINKWARD_ADDRESS;
  delete process.env.LINKWARD_TOKEN;
  const target = await daemonTarget({ address: '127.0.0.1:9', token: 'abcdefghijklmnop', config: '/nonexistent/linkward.yaml' });
  assert.deepEqual(target, { baseUrl: 'http://127.0.0.1:9', token: 'abcdefghijklmnop' });
  const pub = await daemonTarget({ address: '0.0.0.0:9', config: '/nonexistent/linkward.yaml' }, { token: false });
  assert.deepEqual(pub, { baseUrl: 'http://127.0.0.1:9', token: undefined }, 'a wildcard listen address is reached through loopback');
});
