/** Edge-site lab processes: probe server + VictoriaMetrics in lws-inet, the test API server (edge or inet), the built agent and a workload in lws-edge. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { kubeconfigText } from './kube-apiserver/kubeconfig.ts';
import { AGENT_PORT, NODE_NAME, SINK_BULK, SINK_HIGH, siteAgentConfig } from './site-lab-config.ts';
import { NS, PROBE_IP, PROBE_PORT, REMOTE_API_IP, REMOTE_API_PORT, VM_IP, VM_PORT, createSiteNet, removeSiteNet, resetEdgeRoutes, sh } from './site-lab-net.ts';
import { parseMetrics, waitForLine, type Metric } from './trust-lab.ts';

/** The built CLI the operator runs (`npm run build`); LWS_CLI points it at another build. */
export const CLI = process.env.LWS_CLI ?? fileURLToPath(new URL('../../dist/linkward.mjs', import.meta.url));
const SUPPORT = fileURLToPath(new URL('.', import.meta.url));
/** Start-up bound for every lab service and the agent's HTTP server, burners included. */
const START_LIMIT_MS = 30_000;
/** One HTTP call to the agent or VictoriaMetrics never waits longer. */
const CALL_TIMEOUT_MS = 15_000;
/** Workload: one record per sink this often (≈ 5 records/s per sink). */
const WORKLOAD_INTERVAL_MS = 200;
/** Grace for the agent to restore routes on SIGTERM before it is killed. */
const STOP_GRACE_MS = 5_000;
export const VM_BINARY = '/usr/bin/victoria-metrics';

export type ApiWhere = 'edge' | 'inet';
export interface Reply {
  status: number;
  body: string;
}

export interface SiteLab {
  dir: string;
  token: string;
  runId: string;
  apiWhere: ApiWhere;
  acksFile: string;
  configFile: string;
  agent: ChildProcess | null;
  agentLog: string;
  /** Writes the config, validates it with the CLI, starts `linkward run --config` in lws-edge, waits for /healthz. */
  startAgent(opts?: { keepRoutes?: boolean }): Promise<void>;
  kill9(): void;
  stopAgent(): Promise<void>;
  startWorkload(): Promise<void>;
  stopWorkload(): void;
  call(method: 'GET' | 'POST', path: string): Promise<Reply>;
  json<T>(path: string): Promise<T>;
  metrics(): Promise<Metric[]>;
  vm(path: string): Promise<Reply>;
  /** Real kubectl in the API server's namespace (where its loopback listener is). */
  kubectl(...args: string[]): string;
  destroy(keepDir?: boolean): void;
}

/** Why the lab cannot run here, or null. */
export function siteLabUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'the site lab needs root (ip netns, tc, nft)';
  for (const [tool, args, pkg] of [
    ['ip', ['-V'], 'iproute2'],
    ['tc', ['-V'], 'iproute2'],
    ['nft', ['--version'], 'nftables'],
    ['kubectl', ['version', '--client'], 'kubectl'],
  ] as const) {
    try {
      sh(tool, args);
    } catch {
      return `\`${tool}\` missing: apt-get install -y ${pkg}`;
    }
  }
  if (!existsSync(VM_BINARY)) return `${VM_BINARY} missing: apt-get install -y victoria-metrics`;
  if (!existsSync(CLI)) return `${CLI} missing: run \`npm run build\` first`;
  return null;
}

/** Unix socket → HOST:PORT relay run inside a namespace, so the script (host namespace) reaches a namespace's listener. */
const RELAY = `const net = require('node:net'); const [sock, host, port] = process.argv.slice(1);
net.createServer((c) => { const u = net.connect(Number(port), host); c.pipe(u); u.pipe(c); c.on('error', () => u.destroy()); u.on('error', () => c.destroy()); })
  .listen(sock, () => console.log('relay ready'));`;

function httpCall(sock: string, method: string, path: string, headers: Record<string, string>): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: sock, path, method, headers, timeout: CALL_TIMEOUT_MS }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within ${CALL_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** Builds the site (namespaces, services, API server) and returns the lab; always call destroy(). */
export async function createSiteLab(opts: { apiWhere: ApiWhere }): Promise<SiteLab> {
  const procs = new Set<ChildProcess>();
  const dir = mkdtempSync(join(tmpdir(), 'lws-'));
  const spawnIn = (n: string, args: string[], logName?: string): ChildProcess => {
    const c = spawn('ip', ['netns', 'exec', n, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    if (logName) {
      const log = createWriteStream(join(dir, `${logName}.log`), { flags: 'a' });
      c.stdout!.pipe(log, { end: false });
      c.stderr!.pipe(log, { end: false });
    }
    procs.add(c);
    c.on('exit', () => procs.delete(c));
    return c;
  };
  const token = `lws-${process.pid}-0123456789abcdef`;
  const runId = `r${Date.now().toString(36)}`;
  try {
    createSiteNet();
    const srv = spawnIn(NS.inet, [process.execPath, CLI, 'probe-server', '--listen', `${PROBE_IP}:${PROBE_PORT}`, '--token', token], 'probe-server');
    await waitForLine(srv, /listening|probe server/i, START_LIMIT_MS);
    mkdirSync(join(dir, 'vm'));
    spawnIn(
      NS.inet,
      [
        VM_BINARY,
        `-storageDataPath=${join(dir, 'vm')}`,
        `-httpListenAddr=${VM_IP}:${VM_PORT}`,
        '-retentionPeriod=100y',
        '-loggerLevel=ERROR',
        '-search.latencyOffset=0s',
      ],
      'victoria-metrics',
    );
    const apiNs = opts.apiWhere === 'edge' ? NS.edge : NS.inet;
    const api = spawnIn(apiNs, [
      process.execPath,
      join(SUPPORT, 'site-lab-api.ts'),
      NODE_NAME,
      ...(opts.apiWhere === 'inet' ? [`${REMOTE_API_IP}:${REMOTE_API_PORT}`] : []),
    ]);
    const ready = JSON.parse(await waitForLine(api, /\{"ready".*\}/, START_LIMIT_MS)) as { local: string; served: string };
    writeFileSync(join(dir, 'kubeconfig-kubectl'), kubeconfigText(ready.local), { mode: 0o600 });
    writeFileSync(join(dir, 'kubeconfig'), kubeconfigText(ready.served), { mode: 0o600 });
    const agentSock = join(dir, 'agent.sock');
    const vmSock = join(dir, 'vm.sock');
    await waitForLine(spawnIn(NS.edge, [process.execPath, '-e', RELAY, agentSock, '127.0.0.1', String(AGENT_PORT)]), /relay ready/, START_LIMIT_MS);
    await waitForLine(spawnIn(NS.inet, [process.execPath, '-e', RELAY, vmSock, VM_IP, String(VM_PORT)]), /relay ready/, START_LIMIT_MS);
    const vmUp = Date.now() + START_LIMIT_MS;
    while ((await httpCall(vmSock, 'GET', '/health', {}).catch(() => ({ status: 0, body: '' }))).status !== 200) {
      if (Date.now() > vmUp) throw new Error('victoria-metrics did not become healthy');
      await new Promise((r) => setTimeout(r, 200));
    }
    let workload: ChildProcess | null = null;
    const lab: SiteLab = {
      dir,
      token,
      runId,
      apiWhere: opts.apiWhere,
      acksFile: join(dir, 'acks.jsonl'),
      configFile: join(dir, 'linkward.yaml'),
      agent: null,
      agentLog: join(dir, 'agent.log'),
      async startAgent(o = {}) {
        if (!o.keepRoutes) resetEdgeRoutes();
        writeFileSync(lab.configFile, stringify(siteAgentConfig({ token, stateDir: join(dir, 'state'), kubeconfig: join(dir, 'kubeconfig') })));
        sh(process.execPath, [CLI, 'config', 'validate', lab.configFile]);
        const a = spawnIn(NS.edge, [process.execPath, CLI, 'run', '--config', lab.configFile], 'agent');
        lab.agent = a;
        const t0 = Date.now();
        for (;;) {
          if (a.exitCode !== null) throw new Error(`agent exited ${a.exitCode} at start; log ${lab.agentLog}`);
          if ((await lab.call('GET', '/healthz').catch(() => ({ status: 0 }))).status === 200) return;
          if (Date.now() - t0 > START_LIMIT_MS) throw new Error(`agent not serving /healthz within ${START_LIMIT_MS} ms; log ${lab.agentLog}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      },
      kill9() {
        lab.agent?.kill('SIGKILL');
      },
      async stopAgent() {
        const p = lab.agent;
        if (!p || p.exitCode !== null || p.signalCode !== null) return;
        await new Promise<void>((res) => {
          const timer = setTimeout(() => {
            p.kill('SIGKILL');
            res();
          }, STOP_GRACE_MS);
          p.once('exit', () => {
            clearTimeout(timer);
            res();
          });
          p.kill('SIGTERM');
        });
      },
      async startWorkload() {
        workload = spawnIn(
          NS.edge,
          [
            process.execPath,
            join(SUPPORT, 'site-lab-workload.ts'),
            String(AGENT_PORT),
            token,
            runId,
            lab.acksFile,
            String(WORKLOAD_INTERVAL_MS),
            `${SINK_HIGH},${SINK_BULK}`,
          ],
          'workload',
        );
        await waitForLine(workload, /workload ready/, START_LIMIT_MS);
      },
      stopWorkload() {
        workload?.kill('SIGTERM');
      },
      call: (method, path) => httpCall(agentSock, method, path, { authorization: `Bearer ${token}` }),
      async json(path) {
        const r = await lab.call('GET', path);
        if (r.status !== 200) throw new Error(`GET ${path} → ${r.status}: ${r.body.slice(0, 300)}`);
        return JSON.parse(r.body);
      },
      metrics: async () => parseMetrics((await lab.call('GET', '/metrics')).body),
      vm: (path) => httpCall(vmSock, 'GET', path, {}),
      kubectl: (...args) => sh('ip', ['netns', 'exec', apiNs, 'kubectl', '--kubeconfig', join(dir, 'kubeconfig-kubectl'), ...args]),
      destroy(keepDir = false) {
        for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
        removeSiteNet();
        if (!keepDir) rmSync(dir, { recursive: true, force: true });
      },
    };
    return lab;
  } catch (e) {
    for (const p of procs) p.kill('SIGKILL');
    removeSiteNet();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
