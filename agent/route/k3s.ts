/** k3s safety check: does k3s pin --node-ip and --flannel-iface (config file, unit ExecStart, running cmdline)? */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';

export interface K3sFacts {
  /** Text of /etc/rancher/k3s/config.yaml and config.yaml.d/*.yaml, in order. */
  configs: string[];
  /** ExecStart arguments of the k3s / k3s-agent units. */
  unitArgs: string[][];
  /** argv of running k3s processes. */
  cmdlines: string[][];
  /** A k3s binary exists. */
  binary: boolean;
}

export interface K3sPinning {
  present: boolean;
  pinned: boolean;
  nodeIp?: string;
  flannelIface?: string;
  flannelNone: boolean;
  /** One line for status: why switching is (not) allowed and how to fix it. */
  message: string;
}

/** Reads a flag from argv in `--flag=value` or `--flag value` form (last one wins, as in k3s). */
function flag(argv: readonly string[], name: string): string | undefined {
  let v: string | undefined;
  argv.forEach((a, i) => {
    if (a === `--${name}`) v = argv[i + 1];
    else if (a.startsWith(`--${name}=`)) v = a.slice(name.length + 3);
  });
  return v?.replace(/^["']|["']$/g, '');
}

/** Decides from collected facts (pure). */
export function k3sPinning(f: K3sFacts): K3sPinning {
  const present = f.binary || f.configs.length > 0 || f.unitArgs.length > 0 || f.cmdlines.length > 0;
  let nodeIp: string | undefined;
  let flannelIface: string | undefined;
  let backend: string | undefined;
  for (const text of f.configs) {
    let doc: unknown;
    try {
      doc = parseYaml(text);
    } catch {
      continue;
    }
    if (typeof doc !== 'object' || doc === null) continue;
    const d = doc as Record<string, unknown>;
    const first = (v: unknown): string | undefined =>
      Array.isArray(v) ? (v[0] === undefined ? undefined : String(v[0])) : v === undefined || v === null ? undefined : String(v);
    nodeIp = first(d['node-ip']) ?? nodeIp;
    flannelIface = first(d['flannel-iface']) ?? flannelIface;
    backend = first(d['flannel-backend']) ?? backend;
  }
  for (const argv of [...f.unitArgs, ...f.cmdlines]) {
    nodeIp = flag(argv, 'node-ip') ?? nodeIp;
    flannelIface = flag(argv, 'flannel-iface') ?? flannelIface;
    backend = flag(argv, 'flannel-backend') ?? backend;
  }
  const flannelNone = backend === 'none';
  const pinned = nodeIp !== undefined && (flannelIface !== undefined || flannelNone);
  const missing = [nodeIp === undefined ? '--node-ip' : null, flannelIface === undefined && !flannelNone ? '--flannel-iface' : null]
    .filter(Boolean)
    .join(' and ');
  const message = !present
    ? 'k3s not found: route switching allowed'
    : pinned
      ? `k3s pins node-ip ${nodeIp}${flannelNone ? ' (flannel disabled)' : ` and flannel-iface ${flannelIface}`}: route switching allowed`
      : `k3s does not pin ${missing}: flannel and the node IP would follow the default route. Add node-ip/flannel-iface to /etc/rancher/k3s/config.yaml (a stable interface), or set uplinks.policy.allowUnpinnedK3s: true`;
  return { present, pinned, ...(nodeIp ? { nodeIp } : {}), ...(flannelIface ? { flannelIface } : {}), flannelNone, message };
}

/** Splits a systemd ExecStart value into words (quotes and line continuations handled; no shell semantics). */
export function splitExecStart(unitText: string): string[] {
  const joined = unitText.replace(/\\\r?\n/g, ' ');
  const line = joined.split(/\r?\n/).find((l) => /^\s*ExecStart\s*=/.test(l));
  if (!line) return [];
  const value = line.replace(/^\s*ExecStart\s*=\s*[-@:+!]*/, '');
  return [...value.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3] ?? '');
}

export interface K3sPaths {
  configDir: string;
  unitFiles: string[];
  binaries: string[];
  proc: string;
}

export const DEFAULT_K3S_PATHS: K3sPaths = {
  configDir: '/etc/rancher/k3s',
  unitFiles: ['/etc/systemd/system/k3s.service', '/etc/systemd/system/k3s-agent.service', '/lib/systemd/system/k3s.service'],
  binaries: ['/usr/local/bin/k3s', '/usr/bin/k3s'],
  proc: '/proc',
};

const readOr = (p: string): string | null => {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return null;
  }
};

/** Collects the facts from the filesystem (missing files are simply absent). */
export function readK3sFacts(paths: K3sPaths = DEFAULT_K3S_PATHS): K3sFacts {
  const configs: string[] = [];
  const main = readOr(join(paths.configDir, 'config.yaml'));
  if (main !== null) configs.push(main);
  try {
    for (const f of readdirSync(join(paths.configDir, 'config.yaml.d'))
      .filter((n) => n.endsWith('.yaml'))
      .sort()) {
      const t = readOr(join(paths.configDir, 'config.yaml.d', f));
      if (t !== null) configs.push(t);
    }
  } catch {
    /* no drop-in directory */
  }
  const unitArgs = paths.unitFiles
    .map(readOr)
    .filter((t): t is string => t !== null)
    .map(splitExecStart)
    .filter((a) => a.length > 0);
  const cmdlines: string[][] = [];
  let pids: string[] = [];
  try {
    pids = readdirSync(paths.proc).filter((n) => /^\d+$/.test(n));
  } catch {
    /* no /proc */
  }
  for (const pid of pids) {
    const raw = readOr(join(paths.proc, pid, 'cmdline'));
    if (!raw) continue;
    const argv = raw.split('\0').filter((x) => x !== '');
    if (argv[0] !== undefined && /(^|\/)k3s$/.test(argv[0]) && (argv[1] === 'server' || argv[1] === 'agent')) cmdlines.push(argv);
  }
  return { configs, unitArgs, cmdlines, binary: paths.binaries.some((b) => existsSync(b)) };
}
