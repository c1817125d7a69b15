#!/usr/bin/env node
// Lab only: an `ip` that prints nothing for `ip -json addr show` while the file named by $LWR_FLAKY_FLAG exists (the
// empty read that once deleted every per-uplink rule and table); every other call runs the real ip with the same argv.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const args = process.argv.slice(2);
const flag = process.env.LWR_FLAKY_FLAG;
if (flag && existsSync(flag) && args.includes('-json') && args.includes('addr')) process.exit(0);
try {
  process.stdout.write(execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'inherit'], timeout: 10_000 }));
} catch (e) {
  process.stdout.write(e.stdout ?? '');
  process.exit(typeof e.status === 'number' ? e.status : 1);
}
