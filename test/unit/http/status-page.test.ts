/** The status page as a string (no browser): reasons and notes in plain words, figure ages against the daemon's clock, escaping. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderStatusPage } from '../../../agent/http/status-page.ts';
import { explainNote, explainReason } from '../../../agent/http/status-advice.ts';
import type { MeasurementNoteCode } from '../../../agent/core/types.ts';

const NOW = Date.UTC(2026, 11, 2, 19, 0, 0);
const MIN = 60_000;

/** Every note code of agent/core/types.ts: a new code must get words here too. */
const NOTE_CODES: Record<MeasurementNoteCode, true> = {
  target_refused: true,
  target_silent: true,
  throughput_server_failing: true,
  throughput_server_slow: true,
  throughput_disabled: true,
  budget_spent: true,
  measurements_disturbed: true,
  throughput_expired: true,
  target_unprobed: true,
};

function doc(uplink: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: '0.1.0',
    node: 'store-042',
    uptimeSeconds: 3_600,
    ready: true,
    notReadyReasons: [],
    components: {},
    link: { atMs: NOW, node: 'healthy', active: 'wan', uplinks: { wan: { health: 'healthy', sinceMs: NOW - 60 * MIN, reasons: [], latest: {}, ...uplink } } },
    ...extra,
  };
}

test('explainReason: every prefix of link-verdict.ts and link-state.ts in words; unknown reasons as they are', () => {
  assert.equal(explainReason('loss=12%>5'), 'data getting lost on the way (loss=12%>5)');
  assert.equal(explainReason('rtt_p95=412ms>250'), 'responses too slow (delay) (rtt_p95=412ms>250)');
  assert.equal(explainReason('recovering: healthy for 12s<30'), 'getting better: waiting a little to be sure (recovering: healthy for 12s<30)');
  assert.match(explainReason('damped: flapping, penalty=1200>1000'), /^went off and on several times.*\(damped: flapping, penalty=1200>1000\)$/);
  assert.match(explainReason('stale: last measurement 400s ago>60'), /^no recent measurement/);
  assert.equal(explainReason('no measurement yet'), 'not measured yet (no measurement yet)');
  assert.equal(explainReason('frobbed=3>2'), 'frobbed=3>2');
});

test('explainNote: every note code has words that never send staff to the modem or call the link broken', () => {
  for (const code of Object.keys(NOTE_CODES)) {
    const words = explainNote(code, 'technical text', '01:00 CET');
    assert.doesNotMatch(words, /technical text|support about the measurements/, `${code} has its own words`);
    assert.doesNotMatch(words, /modem|cable|restart|unplug|connection (is )?(down|broken|slow)/i, code);
  }
  assert.match(
    explainNote('target_refused', 'x'),
    /A test server is not answering\. This is a problem for support, not for you: the connection itself may be fine\./,
  );
  assert.match(explainNote('measurements_disturbed', 'x'), /^Some measurements could not be trusted, so they were set aside:/);
  assert.match(explainNote('budget_spent', 'x', '01:00 CET'), /measured again after 01:00 CET/);
  assert.equal(
    explainNote('new_code', 'probe server 10.0.0.9 speaks a new protocol.'),
    'A note for support about the measurements: probe server 10.0.0.9 speaks a new protocol.',
  );
});

test("ages are taken against the document's own clock (nowMs) when no time is passed", () => {
  const page = renderStatusPage(doc({ latest: { downloadMbps: 48.2 }, measuredAtMs: { downloadMbps: NOW - 90 * MIN } }, { nowMs: NOW }));
  assert.match(page, /<dd>48\.2 Mbit\/s <span class="age">measured 1 h 30 min ago<\/span><\/dd>/);
  assert.match(
    renderStatusPage(doc({ latest: { downloadMbps: 48.2 }, measuredAtMs: { downloadMbps: NOW - 90 * MIN } }), NOW + 60 * MIN),
    /measured 2 h 30 min ago/,
    'an explicit time wins',
  );
  assert.doesNotMatch(
    renderStatusPage(doc({ latest: { downloadMbps: 48.2 }, measuredAtMs: { downloadMbps: NOW - 30_000 } }), NOW),
    /class="age"/,
    'under a minute: no age',
  );
});

test('a malformed document never crashes the page: odd notes, budget and ages are skipped or shown as they are', () => {
  const page = renderStatusPage(
    doc({ latest: { downloadMbps: 'fast', loadedRttMs: null }, measuredAtMs: { downloadMbps: 'yesterday' }, notes: 'none', budget: { spent: true } }),
    NOW,
  );
  assert.match(page, /<dt>Download speed<\/dt><dd>not measured<\/dd>/);
  assert.doesNotMatch(page, /Delay under load|Speed-test data|class="notes"/);
});

test('note messages and uplink names are escaped', () => {
  const page = renderStatusPage(doc({ notes: [{ code: 'target_refused', message: '<img src=x onerror=alert(1)>', sinceMs: NOW }] }), NOW);
  assert.doesNotMatch(page, /<img/);
  assert.match(page, /For support: &lt;img src=x onerror=alert\(1\)&gt;/);
  assert.doesNotMatch(page, /<script|(src|href)="https?:/i);
});
