/** The status page in real headless Chromium: served by the real daemon, and every link state rendered for on-site staff. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { renderStatusPage } from '../../../agent/http/status-page.ts';
import { startDaemon } from '../../support/daemon.ts';
import { dumpDom, requireChromium, screenshot, textOfId } from './chromium.ts';

/** A rendered 1024×900 page with a coloured banner and text compresses to tens of KB; a blank one to ~5 KB. */
const MIN_SCREENSHOT_BYTES = 15_000;
const T0 = Date.UTC(2026, 10, 22, 6, 0, 0);

let dir = '';
before(() => {
  requireChromium();
  dir = mkdtempSync(join(tmpdir(), 'lw-page-'));
});
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Writes the page for `status` to a file and returns its DOM as Chromium renders it. */
function renderInBrowser(name: string, status: Record<string, unknown>, nowMs?: number): string {
  const file = join(dir, `${name}.html`);
  writeFileSync(file, renderStatusPage(status, nowMs));
  return dumpDom(pathToFileURL(file).href);
}

function doc(link: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: '0.1.0',
    node: 'store-042',
    pid: 1234,
    uptimeSeconds: 3_900,
    ready: true,
    notReadyReasons: [],
    config: { kind: 'defaults' },
    stateDir: '/var/lib/linkward',
    link,
    components: { daemon: { state: 'ok' } },
    ...extra,
  };
}

function uplink(health: string, reasons: string[], latest: Record<string, unknown>): Record<string, unknown> {
  return { name: 'x', health, sinceMs: T0, reasons, latest };
}

test('the real daemon serves a page Chromium renders: "checking" before any measurement, no scripts, no external assets', async (t) => {
  const d = await startDaemon();
  t.after(() => d.cleanup());
  const dom = dumpDom(`${d.baseUrl}/`);
  assert.match(dom, /<section class="banner wait" id="verdict" role="status" data-state="unknown">/);
  assert.match(textOfId(dom, 'verdict'), /Checking the connection… .*never reports OK before a real measurement/);
  assert.match(textOfId(dom, 'todo'), /Wait a minute/);
  assert.match(dom, /data-uplink="default" data-state="unknown"/);
  assert.match(dom, /not measured yet/);
  assert.match(textOfId(dom, 'reference'), /· unknown( since [^·]+)? · linkward \d+\.\d+\.\d+/);
  assert.match(dom, /<td>daemon<\/td><td><span class="badge good">ok<\/span>/);
  assert.doesNotMatch(dom, /<script/i);
  assert.doesNotMatch(dom, /(src|href)="https?:/i, 'no external assets: the site may be offline');
  const shot = screenshot(`${d.baseUrl}/`, join(dir, 'daemon.png'));
  assert.deepEqual([shot.width, shot.height], [1024, 900]);
  assert.ok(shot.bytes > MIN_SCREENSHOT_BYTES, `screenshot only ${shot.bytes} bytes`);
  assert.equal(await d.stop(), 0);
});

test('healthy: a green "OK" with nothing to do, and the uplink figures in words', () => {
  const dom = renderInBrowser(
    'healthy',
    doc({
      atMs: T0,
      node: 'healthy',
      active: 'wan',
      uplinks: { wan: uplink('healthy', [], { downloadMbps: 48.26, uploadMbps: 9.9, rttMs: 31.4, jitterMs: 2.2, lossPercent: 0, carrier: true }) },
    }),
  );
  assert.match(dom, /<section class="banner good" id="verdict"[^>]*data-state="healthy">/);
  assert.match(textOfId(dom, 'verdict'), /Internet connection OK/);
  assert.equal(textOfId(dom, 'todo'), 'Nothing to do.');
  assert.match(dom, /<article class="uplink" data-uplink="wan" data-state="healthy">/);
  assert.match(dom, /<dt>Download speed<\/dt><dd>48\.3 Mbit\/s<\/dd>/);
  assert.match(dom, /<dt>Cable \/ modem<\/dt><dd>connected<\/dd>/);
  assert.match(dom, /in use: <strong>wan<\/strong>/);
  assert.doesNotMatch(dom, /id="agent-problem"/);
});

test('degraded: amber "slow", reasons explained in plain words, data is not lost', () => {
  const dom = renderInBrowser(
    'degraded',
    doc({
      atMs: T0,
      node: 'degraded',
      active: 'lte',
      uplinks: { lte: uplink('degraded', ['loss=12%>5', 'down=3.1Mbps<5'], { downloadMbps: 3.1, lossPercent: 12 }) },
    }),
  );
  assert.match(dom, /class="banner warn"[^>]*data-state="degraded"/);
  assert.match(textOfId(dom, 'verdict'), /Internet connection is slow .*nothing is lost/);
  assert.match(dom, /data getting lost on the way \(loss=12%&gt;5\)/);
  assert.match(dom, /download speed too low \(down=3\.1Mbps&lt;5\)/);
  assert.match(textOfId(dom, 'todo'), /more than 30 minutes, call support/);
});

test('down with a pulled cable: red, tells staff which cable to check first, then modem, then support; a troubled part is listed without "call support" (issue 13 item 7)', (t) => {
  const status = doc(
    {
      atMs: T0,
      node: 'down',
      active: 'wan',
      uplinks: { wan: uplink('down', ['carrier=lost'], { carrier: false }), lte: uplink('down', ['unreachable=0/3 targets<quorum'], { lossPercent: 100 }) },
    },
    { ready: false, notReadyReasons: ['buffer: disk full'], components: { daemon: { state: 'ok' }, buffer: { state: 'error', message: 'disk full' } } },
  );
  const dom = renderInBrowser('down', status);
  assert.match(dom, /class="banner bad"[^>]*data-state="down"/);
  assert.match(textOfId(dom, 'verdict'), /No internet connection .*keeps working on its own/);
  const todo = textOfId(dom, 'todo');
  assert.match(todo, /^Check that the network cable of wan is plugged in at both ends\. .*power .*Restart the modem.* 15 minutes, call support/);
  assert.match(dom, /cable or modem disconnected \(carrier=lost\)/);
  assert.match(dom, /the internet cannot be reached/);
  const problem = textOfId(dom, 'agent-problem');
  assert.match(problem, /^Some parts of linkward are waiting for the connection too\. Nothing extra to do: follow the steps above\. .*buffer: disk full/);
  assert.doesNotMatch(problem, /not working|call support/, 'the down view says wait 15 minutes: no contradicting "call support"');
  assert.match(textOfId(dom, 'reference'), /^store-042 · down since .* · linkward 0\.1\.0$/);
  assert.match(dom, /Ready: no — buffer: disk full/);
  const file = join(dir, 'down.html');
  const shot = screenshot(pathToFileURL(file).href, join(dir, 'down.png'));
  t.diagnostic(`down-state screenshot ${shot.bytes} bytes`);
  assert.ok(shot.bytes > MIN_SCREENSHOT_BYTES, `screenshot only ${shot.bytes} bytes`);
});

test('still unknown after minutes is no longer "wait": it asks for support; hostile names are escaped', () => {
  const dom = renderInBrowser(
    'stale',
    doc(
      { atMs: T0, node: 'unknown', active: null, uplinks: { '<img src=x>': uplink('unknown', ['stale: last measurement 400s ago>60'], {}) } },
      { uptimeSeconds: 900 },
    ),
  );
  assert.match(dom, /class="banner warn"[^>]*data-state="unknown"/);
  assert.match(textOfId(dom, 'verdict'), /Connection not measured/);
  assert.match(textOfId(dom, 'todo'), /call support/);
  assert.match(dom, /no recent measurement \(stale: last measurement 400s ago&gt;60\)/);
  assert.doesNotMatch(dom, /<img/);
  assert.match(dom, /&lt;img src=x&gt;/);
});

test('measurement trust: old figures carry their age, a capped speed reads "at least", delay under load, spent budget, and notes that do not blame the link', (t) => {
  const now = T0 + 3 * 3_600_000;
  const min = 60_000;
  const status = doc({
    atMs: now,
    node: 'healthy',
    active: 'wan',
    uplinks: {
      wan: {
        ...uplink('healthy', [], {
          downloadMbps: 54.23,
          uploadMbps: 9.8,
          downloadLowerBound: true,
          rttMs: 14.2,
          jitterMs: 1.1,
          lossPercent: 0,
          idleRttMs: 12,
          loadedRttMs: 180,
          responsivenessRpm: 333,
          carrier: true,
        }),
        measuredAtMs: {
          downloadMbps: now - 12 * min,
          uploadMbps: now - 12 * min,
          loadedRttMs: now - 12 * min,
          rttMs: now - 2_000,
          jitterMs: now - 2_000,
          lossPercent: now - 2_000,
        },
        budget: { budgetBytes: 50_000_000, usedBytes: 50_000_000, remainingBytes: 0, resetAtMs: Date.UTC(2026, 10, 23), spent: true },
        notes: [
          { code: 'target_refused', message: 'probe target 10.0.0.9:9781 refuses connections (no probe server there)', sinceMs: now - 12 * min },
          { code: 'measurements_disturbed', message: 'measurements disturbed: agent starved of CPU', sinceMs: now - 2 * min },
          { code: 'budget_spent', message: 'daily probe budget spent', sinceMs: now - 60 * min },
          { code: 'something_new', message: 'a note this page does not know yet', sinceMs: now },
        ],
      },
      lte: {
        ...uplink('healthy', [], { rttMs: 60, lossPercent: 0 }),
        budget: { budgetBytes: 50_000_000, usedBytes: 46_900_000, remainingBytes: 3_100_000, resetAtMs: Date.UTC(2026, 10, 23), spent: false },
      },
    },
  });
  const dom = renderInBrowser('trust', status, now);
  assert.match(dom, /class="banner good"[^>]*data-state="healthy"/, 'notes never change the verdict banner');
  assert.match(dom, /<dt>Download speed<\/dt><dd>at least 54\.2 Mbit\/s <span class="age">measured 12 min ago<\/span><\/dd>/);
  assert.match(dom, /<dt>Upload speed<\/dt><dd>9\.8 Mbit\/s <span class="age">measured 12 min ago<\/span><\/dd>/);
  assert.match(dom, /<dt>Delay \(ping\)<\/dt><dd>14\.2 ms<\/dd>/, 'a fresh figure shows no age');
  assert.match(dom, /<dt>Delay under load<\/dt><dd>180 ms <span class="sub">12 ms when not busy<\/span> <span class="age">measured 12 min ago<\/span><\/dd>/);
  assert.match(dom, /<dt>Speed-test data<\/dt><dd>used up for today <span class="sub">refills at \d\d:\d\d [^,]+, in 15 h<\/span><\/dd>/);
  assert.match(dom, /<dt>Speed-test data<\/dt><dd>3\.1 of 50 MB left today <span class="sub">refills at/);
  assert.match(dom, /<dt>Download speed<\/dt><dd>not measured<\/dd>/, 'lte: no bare dash for a speed never measured');
  const notes = textOfId(dom, 'notes-wan');
  assert.match(notes, /^About the measurements \(not about the connection\)/);
  assert.match(
    notes,
    /A test server is not answering\. This is a problem for support, not for you: the connection itself may be fine\. For support: probe target 10\.0\.0\.9:9781 refuses connections/,
  );
  assert.match(notes, /Some measurements could not be trusted, so they were set aside:/);
  assert.match(notes, /used up their data allowance for today, so the speeds shown may be old\. They are measured again after \d\d:\d\d/);
  assert.match(notes, /A note for support about the measurements: a note this page does not know yet\./);
  assert.doesNotMatch(notes, /modem|cable|restart|unplug/i, 'a note never sends staff to the modem');
  assert.equal(textOfId(dom, 'notes-lte'), '', 'no notes, no box');
  assert.doesNotMatch(dom, /<script/i);
  assert.doesNotMatch(dom, /(src|href)="https?:/i);
  const shot = screenshot(pathToFileURL(join(dir, 'trust.html')).href, join(dir, 'trust.png'));
  t.diagnostic(`trust screenshot ${shot.bytes} bytes`);
  assert.ok(shot.bytes > MIN_SCREENSHOT_BYTES, `screenshot only ${shot.bytes} bytes`);
});
