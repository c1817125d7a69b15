/** Headless Chromium driven over the DevTools protocol (loopback WebSocket): DOM and screenshot with JavaScript switched off, which --dump-dom cannot do. */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHROMIUM } from './chromium.ts';

/** Cold start, navigation and capture; shared CI cores are slow. */
const CDP_TIMEOUT_MS = 60_000;
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
  '--hide-scrollbars',
  '--remote-debugging-address=127.0.0.1',
  '--remote-debugging-port=0',
];

export interface NoScriptRender {
  /** document.documentElement.outerHTML as the browser built it with scripts disabled. */
  dom: string;
  /** PNG bytes of the viewport. */
  png: Buffer;
  /** From Page.navigate to the load event (ms): fetch, parse, style, layout of the page in a warm browser. */
  loadMs: number;
}

/**
 * Opens `url` with script execution disabled (Emulation.setScriptExecutionDisabled) in a `width`×`height` viewport;
 * returns the DOM (DOM.getOuterHTML, no script needed) and a screenshot. `pngFile` keeps the screenshot.
 */
export async function renderWithoutJs(url: string, width = 1024, height = 900, pngFile?: string): Promise<NoScriptRender> {
  const profile = mkdtempSync(join(tmpdir(), 'lw-cdp-'));
  const child = spawn(CHROMIUM, [...FLAGS, `--user-data-dir=${profile}`, `--window-size=${width},${height}`, 'about:blank'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const deadline = AbortSignal.timeout(CDP_TIMEOUT_MS);
  try {
    const browserWs = await new Promise<string>((resolve, reject) => {
      let err = '';
      child.stderr.on('data', (c: Buffer) => {
        err += c.toString();
        const m = /DevTools listening on (ws:\/\/\S+)/.exec(err);
        if (m) resolve(m[1] as string);
      });
      child.on('exit', (code) => reject(new Error(`chromium exited ${code}: ${err.slice(-1000)}`)));
      deadline.addEventListener('abort', () => reject(new Error('chromium did not start')));
    });
    const port = new URL(browserWs).port;
    const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`, { signal: deadline })).json()) as {
      type: string;
      webSocketDebuggerUrl: string;
    }[];
    const page = targets.find((t) => t.type === 'page');
    if (!page) throw new Error('no page target');
    const ws = new WebSocket(page.webSocketDebuggerUrl);
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = () => reject(new Error('cannot open the DevTools socket'));
    });
    let id = 0;
    const waiting = new Map<number, (r: { result?: Record<string, unknown>; error?: { message: string } }) => void>();
    const events: ((m: { method?: string }) => void)[] = [];
    ws.onmessage = (e) => {
      const m = JSON.parse(String(e.data)) as { id?: number; method?: string };
      if (m.id !== undefined) waiting.get(m.id)?.(m as never);
      else for (const f of events) f(m);
    };
    const send = (method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> =>
      new Promise((resolve, reject) => {
        const n = ++id;
        waiting.set(n, (r) => (r.error ? reject(new Error(`${method}: ${r.error.message}`)) : resolve(r.result ?? {})));
        ws.send(JSON.stringify({ id: n, method, params }));
        deadline.addEventListener('abort', () => reject(new Error(`${method}: timed out`)));
      });
    await send('Page.enable');
    await send('Emulation.setScriptExecutionDisabled', { value: true });
    await send('Emulation.setDeviceMetricsOverride', { width, height, deviceScaleFactor: 1, mobile: width < 600 });
    const loaded = new Promise<void>((resolve) => events.push((m) => m.method === 'Page.loadEventFired' && resolve()));
    const t0 = performance.now();
    await send('Page.navigate', { url });
    await loaded;
    const loadMs = performance.now() - t0;
    const doc = (await send('DOM.getDocument', { depth: 0 })) as { root: { nodeId: number } };
    const html = (await send('DOM.getOuterHTML', { nodeId: doc.root.nodeId })) as { outerHTML: string };
    const shot = (await send('Page.captureScreenshot', { format: 'png' })) as { data: string };
    ws.close();
    const png = Buffer.from(shot.data, 'base64');
    if (pngFile) writeFileSync(pngFile, png);
    return { dom: html.outerHTML, png, loadMs };
  } finally {
    child.kill('SIGKILL');
    await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(null) : child.once('exit', r)));
    rmSync(profile, { recursive: true, force: true });
  }
}
