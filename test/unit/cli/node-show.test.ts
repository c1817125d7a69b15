/** `linkward node show` text: desired vs actual, ownership, pending patches, fleet hold and the drain outcome. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderNodeShow } from '../../../agent/cli/node.ts';

test('node show prints the drain outcome in one line, and nothing about drain when none ran', () => {
  const base = { node: 'edge-1', state: 'down', desired: { labels: { 'linkward.io/link-state': 'down' }, cordoned: true }, actual: null, pending: [] };
  const withDrain = renderNodeShow({ ...base, drain: { running: false, summary: 'drain: 1 evicted; 0 skipped; 0 remaining; 1 left for emptyDir data (default/cache-1; set kubernetes.drain.deleteEmptyDirData: true to evict them)' } });
  assert.match(withDrain, /^ {2}drain: finished \(1 evicted; .*default\/cache-1; set kubernetes\.drain\.deleteEmptyDirData: true/m);
  assert.match(renderNodeShow({ ...base, drain: { running: true } }), /^ {2}drain: running$/m);
  assert.doesNotMatch(renderNodeShow({ ...base, drain: null }), /drain:/);
  assert.match(withDrain, /^ {2}pending: none \(in sync\)$/m);
});
