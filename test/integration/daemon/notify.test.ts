/** systemd Type=notify against a real unix datagram socket: READY=1, WATCHDOG=1, STOPPING=1. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startDaemon } from '../../support/daemon.ts';
import { startNotifyReceiver } from '../../support/notify-receiver.ts';

test('sends READY=1 once serving, WATCHDOG=1 at half of WATCHDOG_USEC, STOPPING=1 on SIGTERM', async (t) => {
  const rx = await startNotifyReceiver();
  t.after(() => rx.close());
  // 600 ms watchdog → pings every 300 ms.
  const d = await startDaemon({}, { env: { NOTIFY_SOCKET: rx.path, WATCHDOG_USEC: '600000' } });
  t.after(() => d.cleanup());
  const ready = await rx.waitFor('READY=1');
  assert.match(ready, /STATUS=serving on 127\.0\.0\.1:\d+/);
  assert.match(ready, new RegExp(`MAINPID=${d.child.pid}`));
  await rx.waitFor('WATCHDOG=1', 5_000);
  const before = rx.messages.filter((m) => m === 'WATCHDOG=1').length;
  await new Promise((r) => setTimeout(r, 1_000));
  const after = rx.messages.filter((m) => m === 'WATCHDOG=1').length;
  assert.ok(after - before >= 2 && after - before <= 5, `expected ~3 pings per second at 300 ms, got ${after - before}`);
  assert.equal(await d.stop('SIGTERM'), 0);
  await rx.waitFor('STOPPING=1', 2_000);
  assert.ok(rx.messages.indexOf(ready) < rx.messages.findIndex((m) => m.startsWith('STOPPING=1')));
});

test('no NOTIFY_SOCKET: nothing is sent and the daemon runs normally', async (t) => {
  const env = { ...process.env };
  delete env.NOTIFY_SOCKET;
  const d = await startDaemon({}, { env: { NOTIFY_SOCKET: '' } });
  t.after(() => d.cleanup());
  const ready = d.logs.find((l) => l.msg === 'linkward ready');
  assert.equal(ready?.watchdogMs, null);
  assert.equal(await d.stop(), 0);
});
