/** systemd Type=notify against a real unix datagram socket: READY=1, WATCHDOG=1, STOPPING=1. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startDaemon } from '../../support/daemon.ts';
import { startNotifyReceiver } from '../../support/notify-receiver.ts';

/** Polls `ok` until true; fails after `limitMs` (a liveness bound, not a timing assertion). */
async function waitUntil(ok: () => boolean, limitMs: number, what: string): Promise<void> {
  const end = Date.now() + limitMs;
  while (!ok()) {
    if (Date.now() > end) assert.fail(`no ${what} within ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('sends READY=1 once serving, WATCHDOG=1 at half of WATCHDOG_USEC, STOPPING=1 on SIGTERM', async (t) => {
  const rx = await startNotifyReceiver();
  t.after(() => rx.close());
  // 600 ms watchdog → pings every 300 ms.
  const d = await startDaemon({}, { env: { NOTIFY_SOCKET: rx.path, WATCHDOG_USEC: '600000' } });
  t.after(() => d.cleanup());
  const ready = await rx.waitFor('READY=1');
  assert.match(ready, /STATUS=serving on 127\.0\.0\.1:\d+/);
  assert.match(ready, new RegExp(`MAINPID=${d.child.pid}`));
  // The interval is derived, not timed: half of WATCHDOG_USEC, as the daemon reports it; then pings keep coming.
  assert.equal(d.logs.find((l) => l.msg === 'linkward ready')?.watchdogMs, 300);
  await rx.waitFor('WATCHDOG=1', 5_000);
  const first = rx.messages.filter((m) => m === 'WATCHDOG=1').length;
  await waitUntil(() => rx.messages.filter((m) => m === 'WATCHDOG=1').length >= first + 2, 10_000, 'two more WATCHDOG=1 pings');
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
