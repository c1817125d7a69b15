/** `linkward history` and `linkward status --watch` against the real daemon on a scripted state.db; the terminal case driven through tmux (a real pty, a real Ctrl-C). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CLI, startDaemon } from '../../support/daemon.ts';
import { fillStateDb } from '../../support/history-fill.ts';

/** Issue 13: every command stops within 2 s of a signal. */
const STOP_WITHIN_MS = 2_000;
const SPARK = /[▁▂▃▄▅▆▇█]{20,}/;

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function tmux(sock: string, args: string[]): string {
  const r = spawnSync('tmux', ['-L', sock, '-f', '/dev/null', ...args], { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0) throw new Error(`tmux ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function until<T>(what: string, fn: () => T | undefined | false, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('history and status --watch on a site that failed over 2 h ago', async (t) => {
  const stateDir = mkdtempSync(join(tmpdir(), 'lw-hist-cli-'));
  t.after(() => rmSync(stateDir, { recursive: true, force: true }));
  const db = new Database(join(stateDir, 'state.db'));
  db.pragma('journal_mode = WAL');
  fillStateDb(db, 'failover', Date.now());
  db.close();
  const d = await startDaemon({}, { stateDir });
  t.after(() => d.cleanup());
  const base = ['-c', d.configPath];
  const address = d.baseUrl.replace('http://', '');

  await t.test('history: sparklines per uplink, the buffer, and the events in local time', () => {
    const r = cli([...base, 'history', '--address', address]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^history of the last 24 h: .* \(5-min buckets\)\n/);
    assert.match(r.stdout, new RegExp(`\\nwan  delay ms +${SPARK.source} +2\\d(\\.\\d)?–\\d+(\\.\\d)?, last \\d`));
    assert.match(r.stdout, /\nwan  lost % +[▁▂▃▄▅▆▇█ ]+ 0–100, last 100\n/);
    assert.match(r.stdout, /\nlte  download Mbit\/s .* 1\d(\.\d)?–1\d(\.\d)?, last 1\d/);
    assert.match(r.stdout, /\nbuffer  records waiting /);
    assert.match(r.stdout, /\n {2}\d\d \w{3}, \d\d:\d\d \S+ {2}route: wan → lte \(failover, confirmed\)\n/);
    const json = cli([...base, 'history', '--address', address, '--since', '6h', '--json']);
    assert.equal(json.status, 0);
    const doc = JSON.parse(json.stdout);
    assert.equal(doc.bucketMs, 120_000);
    assert.equal(doc.failovers.length, 1);
    const bad = cli([...base, 'history', '--address', address, '--since', 'yesterday']);
    assert.equal(bad.status, 2, 'usage error');
    assert.match(bad.stderr, /--since yesterday is not a duration/);
  });

  await t.test('status --watch without a terminal: one plain line per poll, SIGTERM exits 0 at once', async () => {
    const child = spawn(process.execPath, [CLI, ...base, 'status', '--watch', '--interval', '0.5', '--address', address], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    await until('three lines', () => out.split('\n').length > 3);
    const sent = Date.now();
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.ok(Date.now() - sent < STOP_WITHIN_MS, `stopped after ${Date.now() - sent} ms`);
    const lines = out.trimEnd().split('\n');
    for (const l of lines)
      assert.match(
        l,
        /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z link=\w+ active=\S+ \S+=\w+ rtt=\S+ loss=\S+ down=\S+/,
        'the live link of this daemon has its one default uplink',
      );
    assert.doesNotMatch(out, /\x1b\[/, 'no escape sequences in a pipe');
  });

  await t.test('status --watch in a terminal (tmux): redrawn in place with sparklines, Ctrl-C exits 0 and leaves the cursor visible', async () => {
    const sock = `lw-watch-${process.pid}`;
    const raw = join(stateDir, 'pane.out');
    t.after(() => spawnSync('tmux', ['-L', sock, 'kill-server']));
    // tmux 3.3 does not always reap a pane's process (the pane shows dead with no status while the exited watcher stays a
    // zombie; seen with python too), so the watcher runs under bash, which waits for it and records its exit status in a file
    const exitFile = join(stateDir, 'watch.exit');
    const script = join(stateDir, 'watch.sh');
    const watcher = [process.execPath, CLI, ...base, 'status', '--watch', '--interval', '0.5', '--address', address].map((a) => `'${a}'`).join(' ');
    writeFileSync(script, `${watcher}\necho $? > '${exitFile}'\n`);
    const cmd = `bash '${script}'`;
    tmux(sock, [
      'new-session',
      '-d',
      '-s',
      'w',
      '-x',
      '130',
      '-y',
      '60',
      cmd,
      ';',
      'set-option',
      '-w',
      '-t',
      'w',
      'remain-on-exit',
      'on',
      ';',
      'pipe-pane',
      '-t',
      'w',
      `cat > '${raw}'`,
    ]);
    const pane = (): string => tmux(sock, ['capture-pane', '-p', '-t', 'w']);
    const first = await until('a frame with sparklines', () => {
      const p = pane();
      return /updated \d\d:\d\d:\d\d/.test(p) && /lte +delay [▁▂▃▄▅▆▇█ ]{60}/.test(p) ? p : undefined;
    });
    assert.match(first, /^linkward \d+\.\d+\.\d+ on /m);
    assert.match(first, /last hour \(60 min, oldest left\):/);
    assert.match(first, /^ {2}wan +delay/m);
    const stamp = /updated (\d\d:\d\d:\d\d)/.exec(first)?.[1];
    const later = await until('a redraw', () => {
      const p = pane();
      return /updated (\d\d:\d\d:\d\d)/.exec(p)?.[1] !== stamp ? p : undefined;
    });
    assert.equal(later.match(/^linkward \d/gm)?.length, 1, 'redrawn in place, not appended');
    const sent = Date.now();
    tmux(sock, ['send-keys', '-t', 'w', 'C-c']);
    const status = await until('the watcher to exit', () => (existsSync(exitFile) ? readFileSync(exitFile, 'utf8').trim() || undefined : undefined), 5_000);
    assert.equal(status, '0', 'exit 0 after Ctrl-C');
    assert.ok(Date.now() - sent < STOP_WITHIN_MS, `stopped after ${Date.now() - sent} ms`);
    assert.match(pane(), /updated \d\d:\d\d:\d\d/, 'the last frame stays on screen');
    // what the watcher wrote to the terminal (pipe-pane): it hid the cursor while drawing and showed it again at the end
    const bytes = await until(
      'the terminal output',
      () => {
        const b = readFileSync(raw, 'utf8');
        return b.includes('\x1b[?25h') ? b : undefined;
      },
      2_000,
    );
    assert.ok(bytes.indexOf('\x1b[?25l') >= 0 && bytes.lastIndexOf('\x1b[?25h') > bytes.lastIndexOf('\x1b[?25l'), 'cursor shown again after the last hide');
    assert.ok((bytes.match(/\x1b\[H/g) ?? []).length >= 2, 'each frame starts at the home position (in place)');
  });

  assert.equal(await d.stop(), 0);
});
