/** The 24 h page in headless Chromium for scripted healthy, degraded, down and failed-over runs (real stores), with and without JavaScript, within 60 KB. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { renderStatusPage } from '../../../agent/http/status-page.ts';
import { HistoryStore } from '../../../agent/history/store.ts';
import { buildHistory, type HistoryDoc } from '../../../agent/history/query.ts';
import { fillStateDb, statusFor, type Scenario } from '../../support/history-fill.ts';
import { dumpDom, requireChromium, screenshot, textOfId } from './chromium.ts';
import { renderWithoutJs } from './cdp.ts';

/** Issue 13: the whole page ≤ 60 KB. */
const PAGE_BUDGET_BYTES = 60 * 1024;
/** A rendered page with charts compresses to well over this; a blank or unstyled one does not. */
const MIN_SCREENSHOT_BYTES = 40_000;
const NOW = Date.UTC(2026, 11, 3, 3, 0, 0);
const DAY = 86_400_000;

let dir = '';
before(() => {
  requireChromium();
  dir = mkdtempSync(join(tmpdir(), 'lw-hist-page-'));
});
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Fills a fresh database with `scenario`, reads it back through the history store, renders the page to a file. */
function page(scenario: Scenario, status = statusFor(scenario, NOW)): { file: string; html: string; doc: HistoryDoc } {
  const db = new Database(':memory:');
  fillStateDb(db, scenario, NOW);
  const st = new HistoryStore(db);
  const since = NOW - DAY;
  const doc = buildHistory(
    {
      probes: st.probeSamples(since, NOW),
      transitions: st.transitions(since, NOW),
      failovers: st.failovers(since, NOW),
      nodeActions: st.nodeActions(since, NOW),
      buffer: st.bufferSamples(since, NOW),
    },
    NOW,
    DAY,
  );
  db.close();
  const html = renderStatusPage(status, NOW, doc);
  const file = join(dir, `${scenario}.html`);
  writeFileSync(file, html);
  return { file, html, doc };
}

/** The essentials, asserted identically on the DOM with JavaScript (--dump-dom) and without (DevTools, scripts disabled; phone width). */
async function both(file: string, check: (dom: string) => void): Promise<Buffer> {
  const url = pathToFileURL(file).href;
  check(dumpDom(url));
  const off = await renderWithoutJs(url, 390, 2600, file.replace(/\.html$/, '-nojs-phone.png'));
  check(off.dom);
  assert.ok(off.png.length > MIN_SCREENSHOT_BYTES, `phone screenshot without JavaScript only ${off.png.length} bytes`);
  return off.png;
}

test('the JavaScript-off renderer really has scripts off (a scripted page keeps its static text)', async () => {
  const file = join(dir, 'scripted.html');
  writeFileSync(file, '<!doctype html><p id="x">static</p><script>document.getElementById("x").textContent = "scripted"</script>');
  assert.match(dumpDom(pathToFileURL(file).href), /<p id="x">scripted<\/p>/);
  assert.match((await renderWithoutJs(pathToFileURL(file).href, 400, 200)).dom, /<p id="x">static<\/p>/);
});

function points(dom: string, chart: string, series: string): number {
  const svg = new RegExp(`<svg id="${chart}"[\\s\\S]*?</svg>`).exec(dom)?.[0] ?? '';
  return Number(new RegExp(`data-series="${series}" data-points="(\\d+)"`).exec(svg)?.[1] ?? -1);
}

test('healthy day: green, every chart drawn from the stored points, hover titles, nothing pending, ≤ 60 KB', async (t) => {
  const { file, html, doc } = page('healthy');
  t.diagnostic(`healthy page ${Buffer.byteLength(html)} bytes`);
  assert.ok(Buffer.byteLength(html) <= PAGE_BUDGET_BYTES);
  await both(file, (dom) => {
    assert.match(dom, /class="banner good"[^>]*data-state="healthy"/);
    assert.equal(textOfId(dom, 'todo'), 'Nothing to do.');
    assert.equal(points(dom, 'chart-wan-delay', 'delay'), doc.uplinks.wan!.series.rttMs.length);
    assert.ok(points(dom, 'chart-wan-delay', 'delay') > 280);
    assert.equal(points(dom, 'chart-wan-speed', 'download'), 24, 'one throughput test an hour');
    assert.equal(points(dom, 'chart-lte-loss', 'lost'), doc.uplinks.lte!.series.lossPercent.length);
    const delaySvg = /<svg id="chart-wan-delay"[^]*?<\/svg>/.exec(dom)?.[0] ?? '';
    assert.match(
      delaySvg,
      /<rect x="0" width="12" height="100"><title>\d\d:\d\d–\d\d:\d\d · delay \d+(\.\d)? \(\d+(\.\d)?–\d+(\.\d)?\) ms · under load \d+ ms<\/title><\/rect>/,
      'hourly hover figures (SVG title: no script needed)',
    );
    assert.equal((delaySvg.match(/<rect /g) ?? []).length, 24, 'one hover slot per hour');
    assert.match(textOfId(dom, 'history'), /^Last 24 hours \(times in [^;]+; hover a chart for hourly figures\)$/);
    assert.match(dom, /download 4\d\.\d–\d+(\.\d)? Mbit\/s, last \d+(\.\d)? at \d\d:\d\d/, 'ranges readable without hover');
    assert.match(textOfId(dom, 'backlog'), /^Data waiting to be sent: 3 records \(3 KB\), the oldest waiting for 2 s\./);
    assert.doesNotMatch(dom, /<script/i);
    assert.doesNotMatch(dom, /(src|href)="https?:/i);
  });
  const shot = screenshot(pathToFileURL(file).href, join(dir, 'healthy.png'), 1024, 2400);
  assert.ok(shot.bytes > MIN_SCREENSHOT_BYTES, `screenshot only ${shot.bytes} bytes`);
});

test('degraded for 3 h: amber, reasons, the delay and loss rise on the charts, the state strip and a node action marked', async () => {
  const { file, html, doc } = page('degraded');
  assert.ok(Buffer.byteLength(html) <= PAGE_BUDGET_BYTES);
  await both(file, (dom) => {
    assert.match(dom, /class="banner warn"[^>]*data-state="degraded"/);
    assert.match(dom, /data getting lost on the way \(loss=12%&gt;5\)/);
    assert.match(
      dom,
      /<svg id="strip-wan"[^>]*>(<rect [^>]*data-state="healthy">.*?<\/rect>)(<rect [^>]*data-state="degraded"><title>degraded \d\d:\d\d–\d\d:\d\d<\/title><\/rect>)<\/svg>/,
    );
    assert.match(
      dom,
      /<path class="mk state" d="M2\d\d(\.\d)?,0V100" stroke="#d49a00"><title>\d\d:\d\d wan: healthy → degraded \(loss=12%&gt;5, rtt_p95=310ms&gt;200\)<\/title><\/path>/,
    );
    assert.match(dom, /<path class="mk node"[^>]*><title>\d\d:\d\d node: label linkward\.io\/link=degraded/);
    assert.match(dom, /delay 2\d(\.\d)?–3\d\d ms/, 'delay range reaches the degraded 240–360 ms');
    assert.match(
      textOfId(dom, 'events'),
      /^time what happened \d\d:\d\d Kubernetes node: label linkward\.io\/link=degraded.* \d\d:\d\d wan: healthy → degraded /,
      'newest first',
    );
  });
  const lastLoss = doc.uplinks.wan!.series.lossPercent.at(-1)!;
  assert.ok(lastLoss.avg >= 10, `loss at the end ${lastLoss.avg}`);
});

test('down for 40 min: red, no "call support" from a part waiting for the network, old speeds say so, backlog piling up, ≤ 60 KB', async (t) => {
  const { file, html } = page('down');
  t.diagnostic(`down page ${Buffer.byteLength(html)} bytes`);
  assert.ok(Buffer.byteLength(html) <= PAGE_BUDGET_BYTES);
  await both(file, (dom) => {
    assert.match(dom, /class="banner bad"[^>]*data-state="down"/);
    assert.match(textOfId(dom, 'todo'), /cable of wan .* 15 minutes, call support/);
    const problem = textOfId(dom, 'agent-problem');
    assert.match(problem, /^Some parts of linkward are waiting for the connection too\. .*node: Kubernetes API not reachable/);
    assert.doesNotMatch(problem, /not working|call support/);
    assert.doesNotMatch(dom, /Part of linkward is not working/);
    assert.match(dom, /<dt>Download speed<\/dt><dd>46\.1 Mbit\/s <span class="age">measured 1 h 10 min ago, before the connection stopped<\/span><\/dd>/);
    assert.match(
      textOfId(dom, 'backlog'),
      /^Data waiting to be sent: 1600 records \(1\.4 MB\), the oldest waiting for 40 min; the receiving server refuses or does not answer at the moment\./,
    );
    assert.match(dom, /<svg id="strip-site"[^>]*>.*data-state="down"><title>down \d\d:\d\d–\d\d:\d\d<\/title>/);
    assert.match(dom, /<path class="mk node"[^>]*><title>\d\d:\d\d node: taint linkward\.io\/link-down:NoSchedule added<\/title>/);
    assert.match(dom, /records waiting \d–1600, last 1600 at \d\d:\d\d/);
  });
});

test('failed over to lte 2 h ago: green on lte, wan down with dated speeds, the switch marked on both uplinks and listed', async () => {
  const { file, html } = page('failover');
  assert.ok(Buffer.byteLength(html) <= PAGE_BUDGET_BYTES);
  await both(file, (dom) => {
    assert.match(dom, /class="banner good"[^>]*data-state="healthy"/);
    assert.match(dom, /in use: <strong>lte<\/strong>/);
    assert.match(dom, /<article class="uplink" data-uplink="wan" data-state="down">/);
    for (const u of ['wan', 'lte'])
      assert.match(
        dom,
        new RegExp(`<svg id="chart-${u}-delay"[^]*?<path class="mk failover"[^>]*><title>\\d\\d:\\d\\d switched wan → lte \\(failover, confirmed\\)</title>`),
      );
    assert.match(textOfId(dom, 'events'), /switched connection wan → lte \(failover, confirmed\)/);
    assert.match(
      dom,
      /<svg id="strip-site"[^>]*>(<rect[^>]*data-state="healthy">.*?<\/rect>)(<rect[^>]*data-state="down">.*?<\/rect>)(<rect[^>]*data-state="healthy">.*?<\/rect>)<\/svg>/,
    );
  });
});

test('telemetry not leaving while the link is healthy: amber, the connection is not blamed, the backlog is shown', async () => {
  const status = statusFor('healthy', NOW);
  (status.components as Record<string, unknown>).buffer = {
    state: 'degraded',
    message: 'upstream failing: vm (HTTP 503)',
    details: {
      usage: { records: 4_200, bytes: 3_900_000 },
      gate: { maxPriority: 2 },
      lanes: [{ sink: 'vm', priority: 'normal', oldestAgeSeconds: 3 * 3_600 }],
      sinks: [{ sink: 'vm', attempts: 30 }],
    },
  };
  const { file } = page('healthy', status);
  await both(file, (dom) => {
    assert.match(dom, /class="banner warn"[^>]*data-state="healthy"/);
    assert.match(
      textOfId(dom, 'verdict'),
      /Internet OK — data is not being sent The connection works, but this device's data has not reached the server for 3 h \(4200 records waiting; the receiving server refuses or does not answer\)/,
    );
    assert.match(textOfId(dom, 'todo'), /^Nothing to fix on site: the connection itself works\. This has lasted 3 h: call support/);
    assert.doesNotMatch(textOfId(dom, 'todo'), /modem|cable/i);
    assert.match(dom, /<p class="backlog warn" id="backlog">/);
  });
});

/** Injected into a copy of the page: after layout, the box of every axis label and of the chart above it, as JSON. */
const GEOMETRY_SCRIPT = `<script>addEventListener('load', () => {
  const out = [...document.querySelectorAll('.axis')].map((ax) => {
    const chart = ax.parentElement.querySelector('svg').getBoundingClientRect();
    return { chart: { left: chart.left, right: chart.right }, labels: [...ax.children].map((s) => { const r = s.getBoundingClientRect(); return { text: s.textContent, pct: parseFloat(s.style.left), left: r.left, right: r.right }; }) };
  });
  const pre = document.createElement('pre'); pre.id = 'geom'; pre.textContent = JSON.stringify(out); document.body.append(pre);
});</script>`;

interface AxisGeometry {
  chart: { left: number; right: number };
  labels: { text: string; pct: number; left: number; right: number }[];
}

/** The same local-time formatter the page uses (this process's time zone, like the daemon's). */
const LOCAL = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit' });
/** Pixels a label's centre may sit off its tick (sub-pixel text layout). */
const CENTRE_TOLERANCE_PX = 2;

test('time axis for a day and for short histories (just started, 5 min, 1 h), desktop and phone: round local ticks where their time is, none clipped, overlapping or doubled', async (t) => {
  // a "now" off the hour: the old axis labelled 03:17, 09:17, ... wherever flexbox put them, the first one cut at the edge
  const now = NOW + 17 * 60_000;
  const db = new Database(':memory:');
  fillStateDb(db, 'degraded', now);
  const st = new HistoryStore(db);
  const since = now - DAY;
  const rows = {
    probes: st.probeSamples(since, now),
    transitions: st.transitions(since, now),
    failovers: st.failovers(since, now),
    nodeActions: st.nodeActions(since, now),
    buffer: st.bufferSamples(since, now),
  };
  db.close();
  for (const [name, keepMs] of [
    ['day', DAY],
    ['1h', 3_600_000],
    ['5min', 300_000],
    ['started', -1],
  ] as const) {
    const from = keepMs < 0 ? Number.POSITIVE_INFINITY : now - keepMs; // started: nothing recorded yet
    const keep = <T extends { atMs: number }>(list: T[]): T[] => list.filter((x) => x.atMs >= from);
    const doc = buildHistory(
      {
        probes: keep(rows.probes),
        transitions: keep(rows.transitions),
        failovers: keep(rows.failovers),
        nodeActions: keep(rows.nodeActions),
        buffer: keep(rows.buffer),
      },
      now,
      DAY,
    );
    const html = renderStatusPage(statusFor('degraded', now), now, doc);
    const file = join(dir, `axis-${name}.html`);
    writeFileSync(file, html.replace('</body>', `${GEOMETRY_SCRIPT}</body>`));
    if (keepMs < DAY) {
      for (const strip of keepMs < 0 ? ['strip-site'] : ['strip-site', 'strip-wan']) {
        assert.match(
          html,
          new RegExp(`<svg id="${strip}"[^>]*><rect x="0" [^>]*data-state="no data"><title>no data `),
          `${name}: ${strip} does not stretch today's state over the time before the first record`,
        );
      }
      if (keepMs < 0)
        assert.match(
          html,
          /<svg id="strip-site"[^>]*><rect x="0" width="288" [^>]*data-state="no data">[^]*?<\/rect><\/svg>/,
          'started: nothing known yet, all of the strip says so',
        );
      if (keepMs > 0)
        assert.match(
          html,
          /<svg id="chart-wan-delay"[^]*?<path class="dot lone"|<svg id="chart-wan-delay"[^]*?data-points="([2-9]|\d\d)/,
          `${name}: the few delay buckets are visible (a line or lone dots)`,
        );
    }
    for (const width of [1024, 390]) {
      const geom = JSON.parse(/<pre id="geom">([^<]*)<\/pre>/.exec(dumpDom(pathToFileURL(file).href, width))?.[1] ?? '[]') as AxisGeometry[];
      assert.ok(geom.length >= (keepMs < 0 ? 1 : 4), `${name} @${width}: axes found (${geom.length})`);
      t.diagnostic(`${name} @${width}px: ${geom[0]?.labels.map((l) => l.text).join(' ')}`);
      for (const ax of geom) {
        const times = ax.labels.slice(0, -1);
        assert.equal(ax.labels.at(-1)?.text, 'now', `${name} @${width}: "now" last`);
        assert.ok(times.length >= 2, `${name} @${width}: at least two time labels (${times.length})`);
        assert.equal(new Set(times.map((l) => l.text)).size, times.length, `${name} @${width}: no duplicate ticks`);
        for (const [i, l] of ax.labels.entries()) {
          assert.ok(
            l.left >= ax.chart.left - 0.5 && l.right <= ax.chart.right + 0.5,
            `${name} @${width}: label ${l.text} inside the chart's width (${l.left}–${l.right} in ${ax.chart.left}–${ax.chart.right})`,
          );
          const next = ax.labels[i + 1];
          if (next) assert.ok(l.right + 2 <= next.left, `${name} @${width}: ${l.text} and ${next.text} do not overlap`);
        }
        for (const l of times) {
          // the tick's time from its position (placed to 0.1 %, i.e. 86 s): to the nearest 5 minutes
          const at = Math.round((since + (l.pct / 100) * DAY) / 300_000) * 300_000;
          assert.equal(l.text, LOCAL.format(at), `${name} @${width}: label ${l.text} is the local time where it stands (${l.pct} %)`);
          assert.match(l.text, /^(00|06|12|18):00$/, `${name} @${width}: a 24 h axis ticks at round local 6-hour marks`);
          const tickX = ax.chart.left + (l.pct / 100) * (ax.chart.right - ax.chart.left);
          assert.ok(
            Math.abs((l.left + l.right) / 2 - tickX) <= CENTRE_TOLERANCE_PX,
            `${name} @${width}: ${l.text} centred on its time (${(l.left + l.right) / 2} vs ${tickX})`,
          );
        }
      }
    }
  }
});
