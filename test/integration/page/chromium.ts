/** Headless Chromium (Debian package) for the status page tests: DOM dumps and screenshots, each run in a fresh profile. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Debian installs the browser here (`apt-get install chromium`). */
export const CHROMIUM = '/usr/bin/chromium';
/** A cold headless start takes 1–3 s here; shared CI cores get more. */
const RUN_TIMEOUT_MS = 60_000;
/** Flags for a quiet, offline-friendly run as root in a container. */
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
  '--hide-scrollbars',
];

/** Fails with the install hint when Chromium is missing (CI installs it; never a silent skip). */
export function requireChromium(): void {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: apt-get install chromium (CI installs it in .ci/run)`);
}

function runChromium(args: string[]): string {
  const profile = mkdtempSync(join(tmpdir(), 'lw-chromium-'));
  try {
    const r = spawnSync(CHROMIUM, [...FLAGS, `--user-data-dir=${profile}`, ...args], {
      encoding: 'utf8',
      timeout: RUN_TIMEOUT_MS,
      maxBuffer: 16 * 1024 * 1024,
    });
    if (r.error) throw r.error;
    if (r.status !== 0) throw new Error(`chromium exited ${r.status}: ${r.stderr.slice(-2000)}`);
    return r.stdout;
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

/** The DOM after the page loaded and rendered (what a person would see, serialised). With scripts off --dump-dom prints nothing: see cdp.ts. */
export function dumpDom(url: string, width?: number): string {
  return runChromium(['--dump-dom', ...(width ? [`--window-size=${width},2400`] : []), url]);
}

/** Takes a screenshot of `url` into `file` at width×height; returns the PNG's dimensions from its header. */
export function screenshot(url: string, file: string, width = 1024, height = 900): { width: number; height: number; bytes: number } {
  runChromium([`--screenshot=${file}`, `--window-size=${width},${height}`, url]);
  const png = readFileSync(file);
  if (png.subarray(0, 8).toString('hex') !== '89504e470d0a1a0a') throw new Error(`${file} is not a PNG`);
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20), bytes: png.length };
}

/** Visible text of an element found by id in a DOM dump (tags removed, whitespace collapsed). */
export function textOfId(dom: string, id: string): string {
  const start = dom.search(new RegExp(`<[a-z0-9]+[^>]*\\sid="${id}"`));
  if (start < 0) return '';
  const tag = /^<([a-z0-9]+)/.exec(dom.slice(start))?.[1] ?? 'div';
  const end = dom.indexOf(`</${tag}>`, start);
  return dom
    .slice(start, end < 0 ? undefined : end)
    .replace(/<[^>]+>/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();
}
