/** Shared helpers for the packaging tests: repo paths, the built bundle, the unit file, tool checks. */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../support/daemon.ts';

export { REPO_ROOT };
export const UNIT_PATH = join(REPO_ROOT, 'systemd', 'linkward.service');
export const DROPIN_DIR = join(REPO_ROOT, 'systemd', 'linkward.service.d');
export const BUNDLE = join(REPO_ROOT, 'dist', 'linkward.mjs');
/** Where the release installs itself; the unit's paths all start with it. */
export const INSTALL_PREFIX = '/usr/lib/linkward';
/** esbuild bundles the agent in ~2 s here; slow CI machines get a generous bound. */
const BUILD_TIMEOUT_MS = 120_000;

/** Builds dist/linkward.mjs when it is missing (a fresh clone before `npm run build`). */
export function ensureBundle(): string {
  if (!existsSync(BUNDLE)) {
    const r = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'build.mjs')], { cwd: REPO_ROOT, encoding: 'utf8', timeout: BUILD_TIMEOUT_MS });
    if (r.status !== 0) throw new Error(`node scripts/build.mjs failed: ${r.stderr}`);
  }
  return BUNDLE;
}

/** Fails (never skips) with an install hint when a Debian tool is missing. */
export function requireTool(bin: string, args: string[], pkg: string): void {
  const r = spawnSync(bin, args, { encoding: 'utf8' });
  if (r.error) throw new Error(`${bin} not found: apt-get install ${pkg} (CI installs it in .ci/run)`);
}

/** The unit text with /usr/lib/linkward replaced by `root` (for verify against a materialised tree). */
export function unitAt(root: string, text = readFileSync(UNIT_PATH, 'utf8')): string {
  return text.split(INSTALL_PREFIX).join(root);
}

/** `[Section] Key=value` lines of a unit file, in order (comments and blank lines dropped). */
export function unitEntries(text: string): { section: string; key: string; value: string }[] {
  const out: { section: string; key: string; value: string }[] = [];
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const m = /^\[(.+)\]$/.exec(line);
    if (m?.[1]) section = m[1];
    else {
      const eq = line.indexOf('=');
      if (eq > 0) out.push({ section, key: line.slice(0, eq), value: line.slice(eq + 1) });
    }
  }
  return out;
}

/** Last value of `key` in `section` (what systemd would use for single-valued settings). */
export function unitValue(text: string, section: string, key: string): string | undefined {
  return unitEntries(text)
    .filter((e) => e.section === section && e.key === key)
    .at(-1)?.value;
}

/** Node flags set by `Environment="LINKWARD_NODE_FLAGS=..."` in a unit or drop-in (null when absent). */
export function nodeFlags(text: string): string[] | null {
  const env = unitEntries(text)
    .filter((e) => e.key === 'Environment')
    .map((e) => e.value.replace(/^"(.*)"$/, '$1'));
  const line = env.reverse().find((v) => v.startsWith('LINKWARD_NODE_FLAGS='));
  return line === undefined ? null : line.slice('LINKWARD_NODE_FLAGS='.length).split(/\s+/).filter(Boolean);
}
