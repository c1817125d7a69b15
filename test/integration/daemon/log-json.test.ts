/** Every line the daemon writes is JSON (fatal start-up errors and Node's warnings included), and the docs' jq recipes run on it. */
// Issue 13: fatal errors were plain text, config errors had no LW code, node-cron printed coloured text; the jq
// recipes in docs/OPERATIONS.md stopped at the first such line (parse error, exit 4).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, REPO_ROOT, startDaemon } from '../../support/daemon.ts';

const RUN_TIMEOUT_MS = 20_000;

/** Runs `linkward ... run` to its end; resolves with exit code and both streams. */
function runAgent(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    execFile(process.execPath, [CLI, ...args, 'run'], { timeout: RUN_TIMEOUT_MS }, (err, stdout, stderr) => {
      res({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

/** Parses every non-empty line as JSON; fails the test naming the first line that is not. */
function jsonLines(text: string, what: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        assert.fail(`${what}: not JSON: ${l.slice(0, 200)}`);
      }
    });
}

/** The `jq ...` argument lists of docs/OPERATIONS.md's recipes (the part after `| jq`, single quotes as in a shell). */
function docRecipes(): string[][] {
  const doc = readFileSync(join(REPO_ROOT, 'docs', 'OPERATIONS.md'), 'utf8').replaceAll('\\|', '|');
  const out: string[][] = [];
  for (const m of doc.matchAll(/\|\s*jq\s+((?:-\w+\s+)*'[^']*')/g)) {
    const args = [...(m[1] as string).matchAll(/'([^']*)'|(\S+)/g)].map((a) => a[1] ?? (a[2] as string));
    out.push(args);
  }
  return out;
}

test('start-up failures are one JSON fatal line with an LW code and exit 2 (config) / 1 (state); nothing on stderr', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lw-logjson-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const missing = await runAgent(['--config', join(dir, 'absent.yaml')]);
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'server:\n  listen: 12\nprobes:\n  intervalMs: -1\n');
  const invalid = await runAgent(['--config', bad]);
  const cases = [
    { name: 'missing config file', r: missing, code: 'LW_CONFIG_UNREADABLE', exit: 2 },
    { name: 'invalid config', r: invalid, code: 'LW_CONFIG_INVALID', exit: 2 },
  ];
  for (const c of cases) {
    assert.equal(c.r.stderr, '', `${c.name}: stderr stays empty (got ${c.r.stderr.slice(0, 200)})`);
    const lines = jsonLines(c.r.stdout, c.name);
    const fatal = lines.find((l) => l.level === 60);
    assert.ok(fatal, `${c.name}: a fatal record (${c.r.stdout})`);
    assert.equal(fatal.code, c.code, c.name);
    assert.equal(c.r.code, c.exit, `${c.name}: exit code`);
  }
  // the invalid config names each problem with its path
  const fatal = jsonLines(invalid.stdout, 'invalid').find((l) => l.level === 60) as { context?: { problems?: { path: string }[] } };
  const paths = (fatal.context?.problems ?? []).map((i) => i.path).join(' ');
  assert.match(paths, /server\.listen/);
  assert.match(paths, /probes\.intervalMs/);
});

test("a running daemon writes only JSON, including Node process warnings; the docs' jq recipes parse its log", async (t) => {
  const d = await startDaemon({ probes: { targets: ['127.0.0.1:9'], intervalMs: 500 }, kubernetes: { enabled: false } }, { args: ['--log-level', 'debug'] });
  t.after(() => d.cleanup());
  // a real run with a probe target that refuses (warnings and notes logged); Node's own warnings and node-cron: test/unit/base/log.test.ts
  await new Promise((r) => setTimeout(r, 1_500));
  assert.equal(await d.stop(), 0);
  const err = d.stderr();
  assert.equal(err, '', `stderr stays empty: ${err.slice(0, 300)}`);
  assert.ok(d.logs.length > 5, `the daemon logged (${d.logs.length} records)`);
  const log = d.logs.map((l) => JSON.stringify(l)).join('\n') + '\n';
  const fatalLine = JSON.stringify({ level: 60, time: Date.now(), pid: 1, code: 'LW_CONFIG_INVALID', msg: 'config invalid' });
  const recipes = docRecipes();
  assert.ok(recipes.length >= 3, `found the recipes in docs/OPERATIONS.md (${JSON.stringify(recipes)})`);
  for (const args of recipes) {
    const out = execFileSync('jq', args, { input: log + fatalLine + '\n', encoding: 'utf8', timeout: 10_000 });
    assert.ok(out.length > 0, `jq ${args.join(' ')} printed something`);
  }
});
