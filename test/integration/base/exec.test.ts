/** agent/base/exec.ts with real processes: exit codes, okCodes, timeouts, missing binaries, stdout caps and ignoreStdout. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../../agent/base/exec.ts';
import { codeOf } from '../../../agent/base/errors.ts';

const NODE = process.execPath;
/** A child that prints `n` MiB to stdout, a line to stderr, and exits with `code`. */
const printer = (mib: number, code: number): string[] => [
  '-e',
  `process.stdout.write(Buffer.alloc(${mib} * 1048576, 97)); process.stderr.write('3 flow entries have been deleted.\\n'); process.exitCode = ${code};`,
];

test('exit 0 resolves; a non-ok exit rejects LW_COMMAND_FAILED with the code; okCodes accepts it', async () => {
  assert.equal((await run(NODE, ['-e', 'console.log("hi")'])).stdout, 'hi\n');
  await assert.rejects(
    run(NODE, ['-e', 'process.exit(3)']),
    (e: unknown) => codeOf(e) === 'LW_COMMAND_FAILED' && /exited 3/.test(String((e as Error).message)),
  );
  assert.equal((await run(NODE, ['-e', 'process.exit(1)'], { okCodes: [0, 1] })).code, 1);
});

test('missing binary → LW_COMMAND_NOT_FOUND; a hung command → LW_COMMAND_TIMEOUT', async () => {
  await assert.rejects(run('/nonexistent/lw-no-such-cmd', []), (e: unknown) => codeOf(e) === 'LW_COMMAND_NOT_FOUND');
  await assert.rejects(run(NODE, ['-e', 'setTimeout(() => {}, 60000)'], { timeoutMs: 300 }), (e: unknown) => codeOf(e) === 'LW_COMMAND_TIMEOUT');
  await assert.rejects(
    run(NODE, ['-e', 'setTimeout(() => {}, 60000)'], { timeoutMs: 300, ignoreStdout: true }),
    (e: unknown) => codeOf(e) === 'LW_COMMAND_TIMEOUT',
  );
});

test('output over the capture cap is a failure, never "exit 1" (which okCodes [0, 1] would accept)', async () => {
  await assert.rejects(
    run(NODE, printer(9, 0), { okCodes: [0, 1] }),
    (e: unknown) => codeOf(e) === 'LW_COMMAND_FAILED' && /more than/.test(String((e as Error).message)),
  );
});

test('ignoreStdout: any amount of stdout, exit status and stderr kept', async () => {
  const r = await run(NODE, printer(20, 1), { okCodes: [0, 1], ignoreStdout: true });
  assert.deepEqual([r.code, r.stdout], [1, '']);
  assert.match(r.stderr, /3 flow entries have been deleted/);
  await assert.rejects(
    run(NODE, printer(0, 4), { ignoreStdout: true }),
    (e: unknown) => codeOf(e) === 'LW_COMMAND_FAILED' && /exited 4/.test(String((e as Error).message)),
  );
  await assert.rejects(run('/nonexistent/lw-no-such-cmd', [], { ignoreStdout: true }), (e: unknown) => codeOf(e) === 'LW_COMMAND_NOT_FOUND');
});

test('a file that cannot be executed (EACCES) is a failure, not an exit code', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lw-exec-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const f = join(dir, 'not-executable');
  writeFileSync(f, 'data');
  chmodSync(f, 0o644);
  // Even root gets EACCES for a file without any execute bit.
  for (const ignoreStdout of [false, true]) {
    await assert.rejects(
      run(f, [], { okCodes: [0, 1], ignoreStdout }),
      (e: unknown) => codeOf(e) === 'LW_COMMAND_FAILED' && /could not run/.test(String((e as Error).message)),
    );
  }
});
