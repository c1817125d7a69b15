/** The route store keeps the IPv6 follow-up holds across restarts, and reads a damaged value as "no holds". */
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
