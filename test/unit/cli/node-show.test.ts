/** `linkward node show` text: desired vs actual, ownership, pending patches, fleet hold and the drain outcome. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderNodeShow } from '../../../agent/cli/node.ts';

test('node show prints the drain outcome in one line, and nothing about drain when none ran', () => {
  const base = { node: 'edge-1', state: 'down', desired: { labels: { 'linkward.io/link-state': 'down' }, cordoned: true }, actual: null, pending: [] };
  const withDrain = renderNodeShow({
    ...base,
    drain: {
      running: false,
      summary:
        'drain: 1 evicted; 0 skipped; 0 remaining; 1 left for emptyDir data (default/cache-1; set kubernetes.drain.deleteEmptyDirData: true to evict them)',
    },
  });
  assert.match(withDrain, /^ {2}drain: finished \(1 evicted; .*default\/cache-1; set kubernetes\.drain\.deleteEmptyDirData: true/m);
  assert.match(renderNodeShow({ ...base, drain: { running: true } }), /^ {2}drain: running$/m);
  assert.doesNotMatch(renderNodeShow({ ...base, drain: null }), /drain:/);
  assert.match(withDrain, /^ {2}pending: none \(in sync\)$/m);
});

test('node show: the node name once (also from an older daemon whose message repeats it), API reachability, notes', () => {
  const base = {
    node: 'edge-3',
    state: 'ok',
    desired: { labels: {}, notes: ['drain skipped: the node was cordoned by someone else'] },
    actual: null,
    pending: [],
  };
  const first = (d: Record<string, unknown>) => renderNodeShow(d).split('\n')[0];
  assert.equal(first({ ...base, message: 'link down' }), 'node edge-3: link down');
  assert.equal(first({ ...base, message: 'node edge-3: link down' }), 'node edge-3: link down');
  const down = renderNodeShow({ ...base, api: { reachable: false, lastSuccessMs: Date.UTC(2026, 0, 1), failures: 7, backingOffMs: 12_300 } });
  assert.match(down, /^ {2}api: UNREACHABLE \(7 failed in a row; last answer 2026-01-01T00:00:00.000Z; next try in 13 s\)$/m);
  assert.match(
    renderNodeShow({ ...base, api: { reachable: true, lastSuccessMs: Date.UTC(2026, 0, 1), failures: 0 } }),
    /^ {2}api: reachable \(last answer 2026/m,
  );
  assert.match(renderNodeShow(base), /^ {4}note: {6}drain skipped: the node was cordoned by someone else$/m);
});

test('node show: admin pause and decorations left off are said', () => {
  const base = { node: 'edge-3', message: 'link down', desired: null, actual: null, pending: [] };
  const out = renderNodeShow({ ...base, adminPause: { untilMs: Date.UTC(2026, 0, 1), value: '2026-01-01T00:00:00Z', invalid: false }, yielded: ['cordon'] });
  assert.match(out, /^ {2}PAUSED by annotation linkward\.io\/paused until 2026-01-01T00:00:00\.000Z: no taint, cordon or drain$/m);
  assert.match(out, /^ {2}left off \(removed by someone else, until the link state changes\): cordon$/m);
  assert.doesNotMatch(renderNodeShow(base), /PAUSED|left off/);
});
