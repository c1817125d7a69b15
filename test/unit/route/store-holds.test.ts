/** The route store reads back what it saved (IPv6 holds, pending switch, lists) and reads a damaged value as none. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { createRouteStore } from '../../../agent/route/store.ts';

test('IPv6 holds: saved and read back; none saved reads as none', () => {
  const db = new Database(':memory:');
  const store = createRouteStore(db);
  assert.deepEqual(store.loadIpv6Holds(), {});
  store.saveIpv6Holds({ lte: 1_800_000_000_000, sat: 1_800_000_060_000 });
  assert.deepEqual(createRouteStore(db).loadIpv6Holds(), { lte: 1_800_000_000_000, sat: 1_800_000_060_000 });
  store.saveIpv6Holds({});
  assert.deepEqual(store.loadIpv6Holds(), {});
  db.close();
});

test('IPv6 holds: a stored value of the wrong shape reads as no holds, wrong entries are left out', () => {
  const db = new Database(':memory:');
  const store = createRouteStore(db);
  const put = db.prepare("INSERT INTO route_kv (key, value) VALUES ('ipv6_holds', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value");
  for (const bad of ['"lte"', '[1,2]', 'null', '{not json']) {
    put.run(bad);
    assert.deepEqual(store.loadIpv6Holds(), {}, bad);
  }
  put.run('{"lte": 1800000000000, "wan": "soon", "sat": null}');
  assert.deepEqual(store.loadIpv6Holds(), { lte: 1_800_000_000_000 });
  db.close();
});

test('pending switch, managed lines and interfaces taken down: damaged values read as none, never as characters', () => {
  const db = new Database(':memory:');
  const store = createRouteStore(db);
  const put = db.prepare('INSERT INTO route_kv (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value');
  // a string where a list belongs would otherwise be iterated character by character (`ip link set w up`, ...)
  put.run('down_by_us', '"wwan0"');
  assert.deepEqual(store.loadDownByUs(), []);
  put.run('down_by_us', '["wwan0", 3, null, "eth1"]');
  assert.deepEqual(store.loadDownByUs(), ['wwan0', 'eth1']);
  put.run('managed', '{"a": 1}');
  assert.deepEqual(store.loadManaged(), []);
  for (const bad of ['"x"', '[1]', '{"to": "lte"}', '{"from": null, "to": 5, "reason": "failover", "planFile": "/p", "startedMs": 1}']) {
    put.run('pending', bad);
    assert.equal(store.loadPending(), null, bad);
  }
  const ok = { from: null, to: 'lte', reason: 'failover', planFile: '/var/lib/linkward/route-revert-1.json', startedMs: 1 };
  store.savePending(ok as Parameters<typeof store.savePending>[0]);
  assert.deepEqual(store.loadPending(), ok);
  db.close();
});
