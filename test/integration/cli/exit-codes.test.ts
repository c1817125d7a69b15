/** One exit-code table for every command (docs/OPERATIONS.md "CLI exit codes"): unreachable 3, bad input 2, wrong token 2. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI, startDaemon } from '../../support/daemon.ts';

/** Each command that talks to the daemon, with the arguments it needs to get that far. */
const DAEMON_COMMANDS: string[][] = [
  ['status'],
  ['check'],
  ['wait', '--timeout', '1s'],
  ['route', 'show'],
  ['route', 'use', 'wan'],
  ['route', 'auto'],
  ['buffer', 'stats'],
  ['buffer', 'list'],
  ['buffer', 'flush'],
  ['buffer', 'dead-letters'],
  ['buffer', 'replay', 'x'],
  ['buffer', 'purge', '--yes'],
];
const CLI_TIMEOUT_MS = 30_000;
const EXIT = { OK: 0, USAGE: 2, UNREACHABLE: 3 } as const;

function linkward(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string }> {
  const base = { ...process.env };
  delete base.LINKWARD_ADDRESS;
  delete base.LINKWARD_TOKEN;
  delete base.LINKWARD_CONFIG;
  return new Promise((res) => {
    execFile(process.execPath, [CLI, ...args], { timeout: CLI_TIMEOUT_MS, env: { ...base, ...env } }, (err, stdout, stderr) => {
      res({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, out: stdout + stderr });
    });
  });
}

/** A loopback port nobody listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

test('daemon not running: every daemon command exits 3', async () => {
  const address = `127.0.0.1:${await closedPort()}`;
  const results = await Promise.all(DAEMON_COMMANDS.map(async (cmd) => ({ cmd: cmd.join(' '), ...(await linkward([...cmd, '--address', address])) })));
  const wrong = results.filter((r) => r.code !== EXIT.UNREACHABLE).map((r) => `${r.cmd} → ${r.code}: ${r.out.trim().split('\n')[0]}`);
  assert.deepEqual(wrong, []);
});

test('invalid config file: every command that reads it exits 2 and names the problem', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lw-exit-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'server:\n  listen: 12\n');
  const missing = join(dir, 'absent.yaml');
  const results = [];
  for (const file of [bad, missing]) {
    for (const cmd of [...DAEMON_COMMANDS, ['config', 'validate', file]]) {
      const r = await linkward(['--config', file, ...cmd]);
      results.push({ cmd: `${cmd.join(' ')} (${file === bad ? 'invalid' : 'missing'})`, ...r });
    }
  }
  const wrong = results
    .filter((r) => r.code !== EXIT.USAGE || !/server\.listen|absent\.yaml/.test(r.out))
    .map((r) => `${r.cmd} → ${r.code}: ${r.out.trim().split('\n')[0]}`);
  assert.deepEqual(wrong, []);
});

test('usage errors (unknown option, missing argument) exit 2', async () => {
  const cases = [['status', '--bogus'], ['route', 'use'], ['buffer', 'nosuch'], ['nosuch'], ['check', '--uplink']];
  const results = await Promise.all(cases.map(async (cmd) => ({ cmd: cmd.join(' '), ...(await linkward(cmd)) })));
  const wrong = results.filter((r) => r.code !== EXIT.USAGE).map((r) => `${r.cmd} → ${r.code}`);
  assert.deepEqual(wrong, []);
});

test('a daemon that wants a token: commands without it exit 2 (fix the input), not 3 (start the daemon)', async (t) => {
  const d = await startDaemon({ server: { token: 'exit-codes-token-0123456789abcdef' }, probes: { enabled: false }, kubernetes: { enabled: false } });
  t.after(() => d.cleanup());
  const address = d.baseUrl.replace('http://', '');
  const noTokenCommands = DAEMON_COMMANDS.filter((c) => c[0] !== 'check' && c[0] !== 'wait'); // check/wait read the public /readyz/link
  const results = await Promise.all(noTokenCommands.map(async (cmd) => ({ cmd: cmd.join(' '), ...(await linkward([...cmd, '--address', address])) })));
  const wrong = results.filter((r) => r.code !== EXIT.USAGE).map((r) => `${r.cmd} → ${r.code}: ${r.out.trim().split('\n')[0]}`);
  assert.deepEqual(wrong, []);
  const ok = await linkward(['version']);
  assert.equal(ok.code, EXIT.OK);
});
