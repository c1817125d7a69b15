/** Trust lab: lwt-* namespaces (edge ↔ gw1/gw2 ↔ far with a probe server), impairments, and the built agent run as an operator would. */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { removeNamespaces as dropNamespaces } from './netns.ts';

/**
 * The built CLI the operator runs (`npm run build`); the lab never runs the TypeScript sources for the agent.
 * LWT_CLI points it at another build (e.g. of a given commit, built in a scratch tree) without touching the shared dist/.
 */
export const CLI = process.env.LWT_CLI ?? fileURLToPath(new URL('../../dist/linkward.mjs', import.meta.url));
/** The far host: probe server (HTTP + UDP echo on the same port), reachable through both gateways. */
export const FAR_IP = '10.203.99.1';
export const FAR_PORT = 9781;
/** Inside the edge namespace only, so a fixed port never collides with anything on the host. */
const AGENT_LISTEN = '127.0.0.1:9780';
/** Probe byte budget per uplink and day: the lab runs throughput tests every minute for up to an hour on a free link. */
const LAB_BUDGET_BYTES = 5_000_000_000;
/** Every wait for a command is bounded; under CPU burners `ip netns exec` takes up to a few hundred ms. */
const CMD_TIMEOUT_MS = 20_000;
/** Start-up bound for the probe server and the agent's HTTP server, burners included. */
const START_LIMIT_MS = 30_000;
/** Grace for the agent to restore routes on SIGTERM before it is killed. */
const STOP_GRACE_MS = 5_000;

export type UplinkName = 'wan' | 'lte';
const GW: Record<UplinkName, { n: number }> = { wan: { n: 1 }, lte: { n: 2 } };

export interface TrustLab {
  ns: { edge: string; gw1: string; gw2: string; far: string };
  token: string;
  dir: string;
  /** tbf on both directions of an uplink's gateway (download: towards edge, upload: towards far); null removes it. */
  shape(u: UplinkName, mbit: number | null): void;
  /** nft random drop of this percentage of forwarded packets in the gateway (0 removes it). */
  loss(u: UplinkName, percent: number): void;
  /** The far side goes dead with the carrier up: the gateway drops everything it would forward. Returns when the rule is in. */
  cut(u: UplinkName): void;
  /** No drops, no shaping on that uplink. */
  restore(u: UplinkName): void;
  startAgent(config: Record<string, unknown>, logName?: string): Promise<LabAgent>;
  destroy(): void;
}

export interface LabAgent {
  proc: ChildProcess;
  logFile: string;
  get(path: string): Promise<{ status: number; body: string }>;
  post(path: string): Promise<{ status: number; body: string }>;
  json<T = Record<string, unknown>>(path: string): Promise<T>;
  metrics(): Promise<Metric[]>;
  stop(): Promise<void>;
}

export interface Metric {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function sh(cmd: string, args: readonly string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' }, timeout: CMD_TIMEOUT_MS, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Why the lab cannot run here (not root, a tool or the build missing), or null. */
export function trustLabUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'the trust lab needs root (ip netns, tc, nft)';
  for (const [tool, args, pkg] of [
    ['ip', ['-V'], 'iproute2'],
    ['tc', ['-V'], 'iproute2'],
    ['nft', ['--version'], 'nftables'],
  ] as const) {
    try {
      sh(tool, args);
    } catch {
      return `\`${tool}\` missing: apt-get install -y ${pkg}`;
    }
  }
  if (!existsSync(CLI)) return `${CLI} missing: run \`npm run build\` first`;
  return null;
}

/** When dist/linkward.mjs was built (the lab measures that build, not the sources). */
export function buildInfo(): string {
  let head = 'unknown';
  try {
    const root = fileURLToPath(new URL('../../', import.meta.url));
    head = sh('git', ['-C', root, 'log', '-1', '--format=%h %cI']).trim() + (process.env.LWT_CLI ? '; LWT_CLI set: the build is not this checkout' : '');
  } catch {
    /* not a checkout */
  }
  return `${CLI} built ${statSync(CLI).mtime.toISOString()} (checkout HEAD ${head})`;
}

/** Parses Prometheus text exposition (enough for counters and gauges). */
export function parseMetrics(text: string): Metric[] {
  const out: Metric[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m || line.startsWith('#')) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** Sum of a metric over the series whose labels match `where`. */
export function metricSum(ms: readonly Metric[], name: string, where: (l: Record<string, string>) => boolean = () => true): number {
  return ms.filter((m) => m.name === name && where(m.labels)).reduce((s, m) => s + m.value, 0);
}

/** The agent config an operator would write for this site; `fast` is the lab's fast setting, `defaults` only what the site needs. */
export function siteConfig(
  lab: Pick<TrustLab, 'token' | 'dir'>,
  profile: 'fast' | 'defaults',
  extra: { throughputCron?: string } = {},
): Record<string, unknown> {
  const uplink = (name: UplinkName) => ({
    name,
    interface: `e${GW[name].n}`,
    gateway: `10.203.${GW[name].n}.1`,
    sourceAddress: `10.203.${GW[name].n}.2`,
    priority: GW[name].n * 10,
    budgetBytesPerDay: LAB_BUDGET_BYTES,
  });
  const fast = profile === 'fast';
  return {
    node: { name: 'lwt-edge' },
    server: { listen: AGENT_LISTEN, token: lab.token },
    state: { dir: join(lab.dir, `state-${profile}-${Date.now()}`) },
    log: { level: 'info', format: 'json' },
    probes: {
      targets: [`linkward://${FAR_IP}:${FAR_PORT}`],
      token: lab.token,
      ...(fast ? { intervalMs: 500, maxIntervalMs: 500, timeoutMs: 500 } : {}),
      throughput: {
        url: `http://${FAR_IP}:${FAR_PORT}/`,
        // Scheduled tests inside the measured window, so a low reading under load can show (spread 0: on the minute).
        ...(extra.throughputCron ? { cron: extra.throughputCron, spreadMs: 0 } : {}),
      },
      ...(fast ? { health: { dwell: { enterS: 2, exitS: 5 } } } : {}),
    },
    uplinks: {
      // No switch cap: a false switch must be counted, not hidden by maxSwitchesPerHour.
      // flushConntrack off: conntrack is not installed on lab machines and the lab has no NATed flows to move.
      policy: {
        maxSwitchesPerHour: 1000,
        flushConntrack: false,
        ...(fast
          ? { candidateSamples: 2, failbackHold: 5000, degradedSwitchAfter: 5000, minSwitchInterval: 1000, confirmTimeout: 3000, holdDown: 10_000 }
          : {}),
      },
      list: [uplink('wan'), uplink('lte')],
    },
    kubernetes: { enabled: false },
    buffer: { enabled: false },
  };
}

/** Builds lwt-edge ↔ lwt-gw1/lwt-gw2 ↔ lwt-far (prefix `lwt-…`) and starts the probe server; always call destroy(). */
export async function createTrustLab(prefix = 'lwt-'): Promise<TrustLab> {
  if (!prefix.startsWith('lwt-')) throw new Error('trust lab namespaces must start with lwt-');
  const ns = { edge: `${prefix}edge`, gw1: `${prefix}gw1`, gw2: `${prefix}gw2`, far: `${prefix}far` };
  const gwNs = (u: UplinkName): string => (u === 'wan' ? ns.gw1 : ns.gw2);
  const token = `lwt-${process.pid}-0123456789abcdef`;
  const procs = new Set<ChildProcess>();
  const inNs = (n: string, cmd: string, ...args: string[]): string => sh('ip', ['netns', 'exec', n, cmd, ...args]);
  const removeNamespaces = (): void => {
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    dropNamespaces(Object.values(ns));
  };
  const spawnIn = (n: string, args: string[]): ChildProcess => {
    const c = spawn('ip', ['netns', 'exec', n, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    procs.add(c);
    c.on('exit', () => procs.delete(c));
    return c;
  };
  /**
   * Every agent starts on the site as it was before linkward: routes a previous agent left (cleanupOnStop is false, so a
   * stopped agent keeps its last default route, possibly via lte) would otherwise make the next one fail back at start.
   */
  const resetEdgeRoutes = (): void => {
    const quiet = (...args: string[]): void => {
      try {
        sh('ip', ['-n', ns.edge, ...args]);
      } catch {
        /* not there */
      }
    };
    for (let i = 0; i < 4; i++) quiet('route', 'del', 'default', 'proto', '77');
    for (const n of [7100, 7101]) {
      quiet('route', 'flush', 'table', String(n));
      quiet('rule', 'del', 'priority', String(n));
    }
    sh('ip', ['-n', ns.edge, 'route', 'replace', 'default', 'via', '10.203.1.1', 'dev', 'e1', 'metric', '100', 'proto', 'static']);
  };
  // Left-overs of an earlier run that was killed hard (SIGKILL leaves no chance to clean up).
  removeNamespaces();
  const labDir = mkdtempSync(join(tmpdir(), 'lwt-'));
  try {
    for (const n of Object.values(ns)) sh('ip', ['netns', 'add', n]);
    const veth = (a: string, an: string, b: string, bn: string): void =>
      void sh('ip', ['-n', a, 'link', 'add', an, 'type', 'veth', 'peer', 'name', bn, 'netns', b]);
    veth(ns.edge, 'e1', ns.gw1, 'g1a');
    veth(ns.edge, 'e2', ns.gw2, 'g2a');
    veth(ns.gw1, 'g1b', ns.far, 'f1');
    veth(ns.gw2, 'g2b', ns.far, 'f2');
    const addr = (n: string, dev: string, cidr: string): void => {
      sh('ip', ['-n', n, 'addr', 'add', cidr, 'dev', dev]);
      sh('ip', ['-n', n, 'link', 'set', dev, 'up']);
    };
    for (const n of Object.values(ns)) sh('ip', ['-n', n, 'link', 'set', 'lo', 'up']);
    addr(ns.edge, 'e1', '10.203.1.2/24');
    addr(ns.edge, 'e2', '10.203.2.2/24');
    addr(ns.gw1, 'g1a', '10.203.1.1/24');
    addr(ns.gw1, 'g1b', '10.203.11.1/24');
    addr(ns.gw2, 'g2a', '10.203.2.1/24');
    addr(ns.gw2, 'g2b', '10.203.12.1/24');
    addr(ns.far, 'f1', '10.203.11.2/24');
    addr(ns.far, 'f2', '10.203.12.2/24');
    sh('ip', ['-n', ns.far, 'addr', 'add', `${FAR_IP}/32`, 'dev', 'lo']);
    sh('ip', ['-n', ns.far, 'route', 'add', '10.203.1.0/24', 'via', '10.203.11.1']);
    sh('ip', ['-n', ns.far, 'route', 'add', '10.203.2.0/24', 'via', '10.203.12.1']);
    sh('ip', ['-n', ns.gw1, 'route', 'add', `${FAR_IP}/32`, 'via', '10.203.11.2']);
    sh('ip', ['-n', ns.gw2, 'route', 'add', `${FAR_IP}/32`, 'via', '10.203.12.2']);
    for (const n of Object.values(ns)) inNs(n, 'sysctl', '-q', '-w', 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0');
    for (const gw of [ns.gw1, ns.gw2]) {
      inNs(gw, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1');
      inNs(gw, 'nft', 'add table inet lwt; add chain inet lwt lwtfwd { type filter hook forward priority 0; policy accept; }');
    }
    // What the site had before linkward: a default route through the primary uplink (the agent takes it over).
    sh('ip', ['-n', ns.edge, 'route', 'add', 'default', 'via', '10.203.1.1', 'dev', 'e1', 'metric', '100', 'proto', 'static']);
    const srv = spawnIn(ns.far, [process.execPath, CLI, 'probe-server', '--listen', `${FAR_IP}:${FAR_PORT}`, '--token', token]);
    await waitForLine(srv, /listening|probe server/i, START_LIMIT_MS);
  } catch (e) {
    removeNamespaces();
    rmSync(labDir, { recursive: true, force: true });
    throw e;
  }
  const lab: TrustLab = {
    ns,
    token,
    dir: labDir,
    shape(u, mbit) {
      const n = GW[u].n;
      for (const dev of [`g${n}a`, `g${n}b`]) {
        if (mbit === null) {
          try {
            inNs(gwNs(u), 'tc', 'qdisc', 'del', 'dev', dev, 'root');
          } catch {
            /* none */
          }
        } else {
          // burst ≥ rate/HZ and ≥ 10 kB; latency 50 ms: a shaped link with a small queue, like a provisioned line.
          const burst = Math.max(10_000, Math.round(((mbit * 1e6) / 8) * 0.004));
          inNs(gwNs(u), 'tc', 'qdisc', 'replace', 'dev', dev, 'root', 'tbf', 'rate', `${mbit}mbit`, 'burst', String(burst), 'latency', '50ms');
        }
      }
    },
    loss(u, percent) {
      inNs(gwNs(u), 'nft', 'flush chain inet lwt lwtfwd');
      if (percent > 0) inNs(gwNs(u), 'nft', `add rule inet lwt lwtfwd numgen random mod 100 < ${percent} drop`);
    },
    cut(u) {
      inNs(gwNs(u), 'nft', 'insert rule inet lwt lwtfwd drop');
    },
    restore(u) {
      inNs(gwNs(u), 'nft', 'flush chain inet lwt lwtfwd');
      lab.shape(u, null);
    },
    async startAgent(config, logName = 'agent') {
      resetEdgeRoutes();
      const cfgFile = join(labDir, `${logName}-${Date.now()}.yaml`);
      writeFileSync(cfgFile, stringify(config));
      // The operator's check first: a key the agent renamed or dropped fails here with its own message, not as a hung start.
      try {
        sh(process.execPath, [CLI, 'config', 'validate', cfgFile]);
      } catch (e) {
        throw new Error(
          `the lab's agent config is not valid for this build (${cfgFile}): ${String((e as { stdout?: string; stderr?: string }).stdout ?? '')}${String((e as { stderr?: string }).stderr ?? e)}`,
        );
      }
      const logFile = join(labDir, `${logName}-${Date.now()}.log`);
      const log = createWriteStream(logFile);
      const proc = spawnIn(ns.edge, [process.execPath, CLI, 'run', '--config', cfgFile]);
      proc.stdout!.pipe(log);
      proc.stderr!.pipe(log);
      // The agent listens on loopback inside edge: a relay there exposes it on a unix socket (filesystem, not netns-scoped).
      const sock = join(labDir, `${logName}-${Date.now()}.sock`);
      const relay = spawnIn(ns.edge, [process.execPath, '-e', RELAY, sock, AGENT_LISTEN.split(':')[1]!]);
      await waitForLine(relay, /relay ready/, START_LIMIT_MS);
      const call = (method: 'GET' | 'POST', path: string): Promise<{ status: number; body: string }> =>
        new Promise((resolve, reject) => {
          const req = request({ socketPath: sock, path, method, headers: { authorization: `Bearer ${token}` }, timeout: CMD_TIMEOUT_MS }, (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (d: string) => (body += d));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          });
          req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within ${CMD_TIMEOUT_MS} ms`)));
          req.on('error', reject);
          req.end();
        });
      const t0 = Date.now();
      for (;;) {
        if (proc.exitCode !== null) throw new Error(`agent exited ${proc.exitCode} at start; log ${logFile}`);
        const ok = await call('GET', '/healthz').then(
          (r) => r.status === 200,
          () => false,
        );
        if (ok) break;
        if (Date.now() - t0 > START_LIMIT_MS) throw new Error(`agent not serving /healthz within ${START_LIMIT_MS} ms; log ${logFile}`);
        await sleep(100);
      }
      const agent: LabAgent = {
        proc,
        logFile,
        get: (p) => call('GET', p),
        post: (p) => call('POST', p),
        async json(p) {
          const r = await call('GET', p);
          if (r.status !== 200) throw new Error(`GET ${p} → ${r.status}: ${r.body.slice(0, 300)}`);
          return JSON.parse(r.body);
        },
        metrics: async () => parseMetrics((await call('GET', '/metrics')).body),
        async stop() {
          if (proc.exitCode === null && proc.signalCode === null) {
            await new Promise<void>((res) => {
              const timer = setTimeout(() => {
                proc.kill('SIGKILL');
                res();
              }, STOP_GRACE_MS);
              proc.once('exit', () => {
                clearTimeout(timer);
                res();
              });
              proc.kill('SIGTERM');
            });
          }
          relay.kill('SIGKILL');
        },
      };
      return agent;
    },
    destroy() {
      removeNamespaces();
      rmSync(labDir, { recursive: true, force: true });
    },
  };
  return lab;
}

/** Unix socket → 127.0.0.1:PORT relay, run inside the edge namespace. */
const RELAY = `const net = require('node:net'); const [sock, port] = process.argv.slice(1);
net.createServer((c) => { const u = net.connect(Number(port), '127.0.0.1'); c.pipe(u); u.pipe(c); c.on('error', () => u.destroy()); u.on('error', () => c.destroy()); })
  .listen(sock, () => console.log('relay ready'));`;

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Waits (bounded) until a child prints `pattern` on stdout or stderr. */
export function waitForLine(c: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`no ${pattern} within ${timeoutMs} ms: ${buf.slice(-500)}`)), timeoutMs);
    const on = (d: Buffer): void => {
      buf += d.toString();
      const m = pattern.exec(buf);
      if (m) {
        clearTimeout(timer);
        resolve(m[0]);
      }
    };
    c.stdout?.on('data', on);
    c.stderr?.on('data', on);
    c.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${code}: ${buf.slice(-500)}`));
    });
  });
}

/** Removes the lab on SIGINT/SIGTERM too (node:test and the benchmark otherwise die without running after()). */
export function cleanupOnSignal(fn: () => void): () => void {
  const on = (sig: NodeJS.Signals): void => {
    try {
      fn();
    } finally {
      process.exit(sig === 'SIGINT' ? 130 : 143);
    }
  };
  process.once('SIGINT', on);
  process.once('SIGTERM', on);
  return () => {
    process.off('SIGINT', on);
    process.off('SIGTERM', on);
  };
}
