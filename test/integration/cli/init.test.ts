/** `linkward init` as a process: reads `ip -json` (a fake on PATH here), writes a config `config validate` accepts, never overwrites. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI } from '../../support/daemon.ts';

const CLI_TIMEOUT_MS = 30_000;
const ROUTES =
  '[{"dst":"default","gateway":"192.168.1.1","dev":"eth0","protocol":"dhcp","metric":100,"flags":[]},{"dst":"default","gateway":"100.64.0.1","dev":"wwan0","protocol":"dhcp","metric":700,"flags":[]}]';
const ADDRS =
  '[{"ifname":"lo","flags":["UP"],"addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8}]},{"ifname":"eth0","flags":["UP","LOWER_UP"],"addr_info":[{"family":"inet","local":"192.168.1.20","prefixlen":24}]}]';

function linkward(args: string[], path: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    execFile(process.execPath, [CLI, ...args], { timeout: CLI_TIMEOUT_MS, env: { ...process.env, PATH: path } }, (err, stdout, stderr) => {
      res({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

test('init writes a valid config from the routing table, prints the next step, refuses to overwrite without --force', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lw-init-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // a fake `ip` that answers the two reads init makes and fails on anything else (init must never change anything)
  writeFileSync(
    join(dir, 'ip'),
    `#!/bin/sh\ncase "$*" in\n  "-json -4 route show table main") echo '${ROUTES}' ;;\n  "-json addr show") echo '${ADDRS}' ;;\n  *) echo "unexpected: $*" >&2; exit 9 ;;\nesac\n`,
  );
  chmodSync(join(dir, 'ip'), 0o755);
  const path = `${dir}:${process.env.PATH ?? ''}`;
  const out = join(dir, 'config.yaml');

  const r = await linkward(['init', '--output', out], path);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /wrote .*config\.yaml: 2 uplink\(s\): eth0 \(eth0\), wwan0 \(wwan0\)/);
  assert.match(r.stderr, /next: .*linkward config validate/);
  const v = await linkward(['config', 'validate', out], path);
  assert.equal(v.code, 0, v.stdout + v.stderr);
  assert.match(readFileSync(out, 'utf8'), /name: wwan0[\s\S]*metered: true/);

  const again = await linkward(['init', '--output', out], path);
  assert.equal(again.code, 2, 'an existing file is never overwritten without --force');
  assert.match(again.stderr, /exists.*--force/);
  const forced = await linkward(['init', '--output', out, '--force'], path);
  assert.equal(forced.code, 0, forced.stderr);

  const printed = await linkward(['init'], path);
  assert.equal(printed.code, 0);
  assert.match(printed.stdout, /^uplinks:/m);

  writeFileSync(join(dir, 'ip'), '#!/bin/sh\nexit 1\n');
  const broken = await linkward(['init'], path);
  assert.equal(broken.code, 1, 'a failing ip read is a failure, not an empty proposal');
  assert.equal(broken.stdout, '');
});
