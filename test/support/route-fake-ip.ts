/** A fake `ip` for route tests: keeps routes/rules/links in memory, answers -json reads, records commands, renders state as `ip` lines. */
import { LwError } from '../../agent/errors.ts';
import type { CommandRunner, RunResult } from '../../agent/exec.ts';

interface Route { table: string; dst: string; gateway?: string; dev?: string; metric: number; protocol: string; prefsrc?: string; scope?: string }
interface Rule { priority: number; src: string; table: string }
interface Link { name: string; up: boolean; addr: string; prefixlen: number }

function fail(args: readonly string[], stderr: string): never {
  throw new LwError('LW_COMMAND_FAILED', `ip ${args.join(' ')} exited 2: ${stderr}`, { context: { cmd: 'ip', args: [...args], stderr, code: 2 } });
}

function opt(args: readonly string[], key: string): string | undefined {
  const i = args.indexOf(key);
  return i >= 0 ? args[i + 1] : undefined;
}

/** In-memory kernel: links with one IPv4 address each, their connected routes, and whatever commands add. */
export class FakeIp implements CommandRunner {
  routes: Route[] = [];
  rules: Rule[] = [{ priority: 0, src: 'all', table: 'local' }, { priority: 32766, src: 'all', table: 'main' }, { priority: 32767, src: 'all', table: 'default' }];
  links: Link[] = [];
  /** Every mutating command, as `ip ...` lines. */
  log: string[] = [];
  /** Commands (as text prefixes) that fail with the given stderr. */
  failures = new Map<string, string>();

  addLink(name: string, cidr: string, up = true): this {
    const [addr, len] = cidr.split('/');
    this.links.push({ name, up, addr: addr!, prefixlen: Number(len) });
    if (up) this.#connected(name);
    return this;
  }

  #connected(name: string): void {
    const l = this.links.find((x) => x.name === name)!;
    const parts = l.addr.split('.').map(Number);
    const net = `${parts[0]}.${parts[1]}.${parts[2]}.0/${l.prefixlen}`;
    if (!this.routes.some((r) => r.table === 'main' && r.dst === net)) this.routes.push({ table: 'main', dst: net, dev: name, metric: 0, protocol: 'kernel', prefsrc: l.addr, scope: 'link' });
  }

  async run(cmd: string, args: readonly string[]): Promise<RunResult> {
    if (cmd !== 'ip') fail(args, `fake only knows ip, not ${cmd}`);
    const a = args.filter((x) => x !== '-4');
    const text = `ip ${args.join(' ')}`;
    for (const [prefix, stderr] of this.failures) if (text.startsWith(prefix)) fail(args, stderr);
    if (a[0] === '-json') return { code: 0, stdout: this.#json(a.slice(1)), stderr: '' };
    this.log.push(text);
    if (a[0] === 'route') this.#route(a);
    else if (a[0] === 'rule') this.#rule(a);
    else if (a[0] === 'link') this.#link(a);
    else fail(args, 'Object unknown');
    return { code: 0, stdout: '', stderr: '' };
  }

  #json(a: readonly string[]): string {
    if (a[0] === 'route') return JSON.stringify(this.routes.map((r) => ({ ...(r.table !== 'main' ? { table: r.table } : {}), dst: r.dst, ...(r.gateway ? { gateway: r.gateway } : {}), dev: r.dev, protocol: r.protocol, ...(r.metric ? { metric: r.metric } : {}), ...(r.prefsrc ? { prefsrc: r.prefsrc } : {}), ...(r.scope ? { scope: r.scope } : {}), flags: [] })));
    if (a[0] === 'rule') return JSON.stringify([...this.rules].sort((x, y) => x.priority - y.priority).map((r) => ({ priority: r.priority, src: r.src, table: r.table })));
    if (a[0] === 'addr') return JSON.stringify(this.links.map((l, i) => ({ ifindex: i + 2, ifname: l.name, flags: l.up ? ['BROADCAST', 'UP', 'LOWER_UP'] : ['BROADCAST'], addr_info: [{ family: 'inet', local: l.addr, prefixlen: l.prefixlen }] })));
    return '[]';
  }

  #route(a: readonly string[]): void {
    const verb = a[1];
    const dst = a[2]!;
    const r: Route = { table: opt(a, 'table') ?? 'main', dst, metric: Number(opt(a, 'metric') ?? 0), protocol: opt(a, 'proto') ?? 'boot' };
    const gw = opt(a, 'via');
    const dev = opt(a, 'dev');
    if (gw) r.gateway = gw;
    if (dev) r.dev = dev;
    const key = (x: Route): boolean => x.table === r.table && x.dst === r.dst && x.metric === r.metric;
    if (verb === 'replace' || verb === 'add') {
      const link = this.links.find((l) => l.name === r.dev);
      if (!link) fail(a, 'Cannot find device "' + String(r.dev) + '"');
      if (!link.up) fail(a, 'RTNETLINK answers: Network is down');
      const i = this.routes.findIndex(key);
      if (i >= 0 && verb === 'add') fail(a, 'RTNETLINK answers: File exists');
      if (i >= 0) this.routes[i] = r;
      else this.routes.push(r);
    } else if (verb === 'del') {
      const i = this.routes.findIndex((x) => x.table === r.table && x.dst === dst && (!gw || x.gateway === gw) && (!dev || x.dev === dev) && (opt(a, 'metric') === undefined || x.metric === r.metric));
      if (i < 0) fail(a, 'RTNETLINK answers: No such process');
      this.routes.splice(i, 1);
    } else fail(a, 'Command line is not complete');
  }

  #rule(a: readonly string[]): void {
    const r: Rule = { priority: Number(opt(a, 'priority')), src: opt(a, 'from') ?? 'all', table: opt(a, 'lookup') ?? 'main' };
    const i = this.rules.findIndex((x) => x.priority === r.priority && x.src === r.src && x.table === r.table);
    if (a[1] === 'add') {
      if (i >= 0) fail(a, 'RTNETLINK answers: File exists');
      this.rules.push(r);
    } else if (a[1] === 'del') {
      if (i < 0) fail(a, 'RTNETLINK answers: No such file or directory');
      this.rules.splice(i, 1);
    }
  }

  #link(a: readonly string[]): void {
    const l = this.links.find((x) => x.name === a[3]);
    if (!l) fail(a, `Cannot find device "${a[3]}"`);
    l.up = a[4] === 'up';
    // Like the kernel: taking a link down drops every route through it; up brings back only the connected route.
    if (!l.up) this.routes = this.routes.filter((r) => r.dev !== l.name);
    else this.#connected(l.name);
  }

  /** Kernel state as sorted `ip` lines (what golden tests compare). */
  render(): string {
    const routes = this.routes.filter((r) => r.protocol !== 'kernel').map((r) => `ip route ${r.dst}${r.gateway ? ` via ${r.gateway}` : ''} dev ${r.dev}${r.table !== 'main' ? ` table ${r.table}` : ''}${r.metric ? ` metric ${r.metric}` : ''} proto ${r.protocol}`);
    const rules = this.rules.filter((r) => ![0, 32766, 32767].includes(r.priority)).map((r) => `ip rule ${r.priority}: from ${r.src} lookup ${r.table}`);
    const links = this.links.map((l) => `ip link ${l.name} ${l.up ? 'up' : 'down'}`);
    return [...routes.sort(), ...rules.sort(), ...links].join('\n');
  }
}
