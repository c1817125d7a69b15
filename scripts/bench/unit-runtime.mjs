// What the shipped systemd unit runs Node with (flags and environment), so benchmarks measure what production runs.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const UNIT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'systemd', 'linkward.service');

/** `Environment=` assignments of the unit, quotes removed (`Environment="A=b c"` and `Environment=A=b`). */
function assignments() {
  const out = {};
  for (const line of readFileSync(UNIT, 'utf8').split('\n')) {
    const m = /^Environment=(?:"([^"]*)"|(\S+))\s*$/.exec(line.trim());
    const kv = m?.[1] ?? m?.[2];
    const eq = kv?.indexOf('=') ?? -1;
    if (kv && eq > 0) out[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return out;
}

/** The Node flags (LINKWARD_NODE_FLAGS). */
export function unitFlags() {
  return (assignments().LINKWARD_NODE_FLAGS ?? '').trim().split(/\s+/).filter(Boolean);
}

/** The rest of the unit's environment (e.g. MALLOC_ARENA_MAX), to add to a benchmarked process's env. */
export function unitEnv() {
  const { LINKWARD_NODE_FLAGS: _flags, ...rest } = assignments();
  return rest;
}

/**
 * The environment a system service starts with, before the unit's `Environment=`: systemd gives PATH (and, for `User=`,
 * HOME/USER/LOGNAME/SHELL), not the login shell's variables. A benchmark that let the agent inherit the shell's
 * environment measured it, not the service: NODE_EXTRA_CA_CERTS, set on many developer and CI machines, makes Node parse
 * that CA file's certificates at start (about 0.7 MiB of OpenSSL heap here). PATH is kept from the caller so that the
 * test's tools resolve.
 */
export function serviceBaseEnv() {
  return { PATH: process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin' };
}
