/** Node's process warnings and node-cron's messages go through the JSON logger, not as plain text on stderr. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import { createLogger, dependencyLogger, routeProcessWarnings } from '../../../agent/base/log.ts';

function capture(): { dest: Writable; records: () => Record<string, unknown>[] } {
  const lines: string[] = [];
  const dest = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      cb();
    },
  });
  return { dest, records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

test('routeProcessWarnings: a MaxListenersExceeded warning becomes one warn record; Node prints nothing itself', async () => {
  const c = capture();
  const log = createLogger({ level: 'info', format: 'json', dest: c.dest });
  routeProcessWarnings(log);
  assert.equal(process.listenerCount('warning'), 1, "Node's default printer was replaced");
  const e = new EventEmitter();
  for (let i = 0; i < 11; i++) e.on('x', () => {});
  await new Promise((r) => setImmediate(r));
  const rec = c.records().find((r) => r.warning === 'MaxListenersExceededWarning');
  assert.ok(rec, JSON.stringify(c.records()));
  assert.equal(rec.level, 40);
  assert.equal(rec.source, 'node');
  assert.match(String(rec.msg), /Possible EventEmitter memory leak/);
});

test('dependencyLogger: node-cron messages become records with their source, errors keep their stack', () => {
  const c = capture();
  const dep = dependencyLogger(createLogger({ level: 'debug', format: 'json', dest: c.dest }), 'node-cron');
  dep.warn('missed execution at Thu Dec 03 2026! Possible blocking IO');
  dep.error('Task failed with error!', new Error('boom'));
  dep.error(new Error('bare'));
  dep.info('started');
  const [w, e1, e2, i] = c.records();
  assert.deepEqual([w?.level, w?.source, w?.msg], [40, 'node-cron', 'missed execution at Thu Dec 03 2026! Possible blocking IO']);
  assert.deepEqual([e1?.level, e1?.msg, (e1?.err as { message?: string } | undefined)?.message], [50, 'Task failed with error!', 'boom']);
  assert.deepEqual([e2?.level, e2?.msg], [50, 'bare']);
  assert.deepEqual([i?.level, i?.msg], [30, 'started']);
});
