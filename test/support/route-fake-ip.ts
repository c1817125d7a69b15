/** A fake `ip` for route tests: keeps IPv4/IPv6 routes/rules/links in memory, answers -json reads (or fails them on demand), records commands, renders state as `ip` lines. */
import { LwError } from '../../agent/base/errors.ts';
import type { CommandRunner, RunResult } from '../../agent/base/exec.ts';

interface Route {
  family?: 4 | 6;
  table: string;
  dst: string;
  gateway?: string;
  dev?: string;
  metric: number;
  protocol: string;
  prefsrc?: string;
  scope?: string;
}
interface Rule {
  family?: 4 | 6;
  priority: number;
  src: string;
  table: string;
}
/** `addr` '' = the interface has no IPv4 address (e.g. a modem between DHCP leases). */
interface Link {
  name: string;
  up: boolean;
  addr: string;
  prefixlen: number;
  addr6?: string;
}

/** How a read goes wrong: what `ip` does when netlink is stuck, the process is killed, or its output is cut. */
export type ReadFault = 'empty' | 'timeout' | 'garbage' | 'partial' | 'fail' | 'interrupted' | 'no-loopback';

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
  rules: Rule[] = [
    { priority: 0, src: 'all', table: 'local' },
    { priority: 32766, src: 'all', table: 'main' },
    { priority: 32767, src: 'all', table: 'default' },
    { family: 6, priority: 0, src: 'all', table: 'local' },
    { family: 6, priority: 32766, src: 'all', table: 'main' },
  ];
  links: Link[] = [];
  /** Every mutating command, as `ip ...` lines. */
  log: string[] = [];
  /** Commands (as text prefixes) that fail with the given stderr. */
  failures = new Map<string, string>();
  /** Reads (`ip -json addr`, `ip -4 -json route`, ... as text prefixes) that go wrong, each for `times` more calls. */
  readFaults: { prefix: string; fault: ReadFault; times: number }[] = [];
  /** Number of -json reads answered (or failed). */
  reads = 0;

  /** Adds an up (or down) link with an IPv4 address (`''`: none) and optionally a global IPv6 one, plus their connected routes. */
  addLink(name: string, cidr: string, up = true, cidr6?: string): this {
    const [addr, len] = cidr.split('/');
    this.links.push({ name, up, addr: addr ?? '', prefixlen: Number(len ?? 32), ...(cidr6 ? { addr6: cidr6 } : {}) });
    if (up) this.#connected(name);
    return this;
  }

  #connected(name: string): void {
    const l = this.links.find((x) => x.name === name)!;
    if (l.addr) {
      const parts = l.addr.split('.').map(Number);
      const net = `${parts[0]}.${parts[1]}.${parts[2]}.0/${l.prefixlen}`;
      if (!this.routes.some((r) => r.table === 'main' && r.dst === net))
        this.routes.push({ table: 'main', dst: net, dev: name, metric: 0, protocol: 'kernel', prefsrc: l.addr, scope: 'link' });
    }
    if (l.addr6) {
      const [a6, len6] = l.addr6.split('/');
      const net6 = `${a6!.split(':').slice(0, 3).join(':')}::/${len6}`;
      if (!this.routes.some((r) => r.family === 6 && r.table === 'main' && r.dst === net6))
        this.routes.push({ family: 6, table: 'main', dst: net6, dev: name, metric: 256, protocol: 'kernel' });
    }
  }

  async run(cmd: string, args: readonly string[]): Promise<RunResult> {
    if (cmd !== 'ip') fail(args, `fake only knows ip, not ${cmd}`);
    const family = args.includes('-6') ? 6 : 4;
    const a = args.filter((x) => x !== '-4' && x !== '-6');
    const text = `ip ${args.join(' ')}`;
    for (const [prefix, stderr] of this.failures) if (text.startsWith(prefix)) fail(args, stderr);
    if (a[0] === '-json') {
      this.reads++;
      const out = this.#json(a.slice(1), family);
      const f = this.readFaults.find((x) => x.times > 0 && text.startsWith(x.prefix));
      if (!f) return { code: 0, stdout: out, stderr: '' };
      f.times--;
      if (f.fault === 'timeout')
        throw new LwError('LW_COMMAND_TIMEOUT', `ip ${args.join(' ')} did not finish within 5000 ms`, { context: { cmd: 'ip', args: [...args], stderr: '' } });
      if (f.fault === 'fail') fail(args, 'Cannot open netlink socket: Too many open files');
      if (f.fault === 'empty') return { code: 0, stdout: '', stderr: '' };
      if (f.fault === 'garbage') return { code: 0, stdout: 'Error: ???\n\u0000\u0013 not json', stderr: '' };
      if (f.fault === 'partial') return { code: 0, stdout: out.slice(0, Math.floor(out.length / 2)), stderr: '' };
      if (f.fault === 'interrupted') return { code: 0, stdout: out, stderr: 'Dump was interrupted and may be inconsistent.\n' };
      if (f.fault === 'no-loopback') return { code: 0, stdout: '[]', stderr: '' };
    }
    this.log.push(text);
    const f6 = family === 6 ? ['-6'] : [];
    if (a[0] === 'route') this.#route([...f6, ...a]);
    else if (a[0] === 'rule') this.#rule([...f6, ...a]);
    else if (a[0] === 'link') this.#link(a);
    else fail(args, 'Object unknown');
    return { code: 0, stdout: '', stderr: '' };
  }

  #json(a: readonly string[], family: 4 | 6): string {
    const fam = (x: { family?: 4 | 6 }): boolean => (x.family ?? 4) === family;
    if (a[0] === 'route')
      return JSON.stringify(
        this.routes.filter(fam).map((r) => ({
          ...(r.table !== 'main' ? { table: r.table } : {}),
          dst: r.dst,
          ...(r.gateway ? { gateway: r.gateway } : {}),
          dev: r.dev,
          protocol: r.protocol,
          ...(r.metric ? { metric: r.metric } : {}),
          ...(r.prefsrc ? { prefsrc: r.prefsrc } : {}),
          ...(r.scope ? { scope: r.scope } : {}),
          flags: [],
        })),
      );
    if (a[0] === 'rule')
      return JSON.stringify(
        this.rules
          .filter(fam)
          .sort((x, y) => x.priority - y.priority)
          .map((r) => ({ priority: r.priority, src: r.src, table: r.table })),
      );
    if (a[0] === 'addr') {
      const lo = {
        ifindex: 1,
        ifname: 'lo',
        flags: ['LOOPBACK', 'UP', 'LOWER_UP'],
        addr_info: [
          { family: 'inet', local: '127.0.0.1', prefixlen: 8, scope: 'host' },
          { family: 'inet6', local: '::1', prefixlen: 128, scope: 'host' },
        ],
      };
      return JSON.stringify([
        lo,
        ...this.links.map((l, i) => ({
          ifindex: i + 2,
          ifname: l.name,
          flags: l.up ? ['BROADCAST', 'UP', 'LOWER_UP'] : ['BROADCAST'],
          addr_info: [
            ...(l.addr ? [{ family: 'inet', local: l.addr, prefixlen: l.prefixlen, scope: 'global' }] : []),
            ...(l.addr6 ? [{ family: 'inet6', local: l.addr6.split('/')[0], prefixlen: Number(l.addr6.split('/')[1]), scope: 'global' }] : []),
            { family: 'inet6', local: `fe80::${i + 2}`, prefixlen: 64, scope: 'link' },
          ],
        })),
      ]);
    }
    return '[]';
  }

  #route(args: readonly string[]): void {
    const family = args[0] === '-6' ? 6 : 4;
    const a = args.filter((x) => x !== '-6');
    const verb = a[1];
    const dst = a[2]!;
    const given = Number(opt(a, 'metric') ?? 0);
    // Like the kernel: an IPv6 route without a metric (or metric 0) gets 1024.
    const r: Route = {
      ...(family === 6 ? { family } : {}),
      table: opt(a, 'table') ?? 'main',
      dst,
      metric: family === 6 && given === 0 ? 1024 : given,
      protocol: opt(a, 'proto') ?? 'boot',
    };
    const gw = opt(a, 'via');
    const dev = opt(a, 'dev');
    if (gw) r.gateway = gw;
    if (dev) r.dev = dev;
    const key = (x: Route): boolean => (x.family ?? 4) === family && x.table === r.table && x.dst === r.dst && x.metric === r.metric;
    if (verb === 'replace' || verb === 'add') {
      const link = this.links.find((l) => l.name === r.dev);
      if (!link) fail(a, 'Cannot find device "' + String(r.dev) + '"');
      if (!link.up) fail(a, 'RTNETLINK answers: Network is down');
      const i = this.routes.findIndex(key);
      if (i >= 0 && verb === 'add') fail(a, 'RTNETLINK answers: File exists');
      if (i >= 0) this.routes[i] = r;
      else this.routes.push(r);
    } else if (verb === 'del') {
      const i = this.routes.findIndex(
        (x) =>
          (x.family ?? 4) === family &&
          x.table === r.table &&
          x.dst === dst &&
          (!gw || x.gateway === gw) &&
          (!dev || x.dev === dev) &&
          (opt(a, 'metric') === undefined || x.metric === r.metric),
      );
      if (i < 0) fail(a, 'RTNETLINK answers: No such process');
      this.routes.splice(i, 1);
    } else fail(a, 'Command line is not complete');
  }

  #rule(args: readonly string[]): void {
    const family = args[0] === '-6' ? 6 : 4;
    const a = args.filter((x) => x !== '-6');
    const r: Rule = {
      ...(family === 6 ? { family } : {}),
      priority: Number(opt(a, 'priority')),
      src: opt(a, 'from') ?? 'all',
      table: opt(a, 'lookup') ?? 'main',
    };
    const i = this.rules.findIndex((x) => (x.family ?? 4) === family && x.priority === r.priority && x.src === r.src && x.table === r.table);
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
    const f = (x: { family?: 4 | 6 }): string => (x.family === 6 ? '-6 ' : '');
    const routes = this.routes
      .filter((r) => r.protocol !== 'kernel')
      .map(
        (r) =>
          `ip ${f(r)}route ${r.dst}${r.gateway ? ` via ${r.gateway}` : ''} dev ${r.dev}${r.table !== 'main' ? ` table ${r.table}` : ''}${r.metric ? ` metric ${r.metric}` : ''} proto ${r.protocol}`,
      );
    const rules = this.rules.filter((r) => ![0, 32766, 32767].includes(r.priority)).map((r) => `ip ${f(r)}rule ${r.priority}: from ${r.src} lookup ${r.table}`);
    const links = this.links.map((l) => `ip link ${l.name} ${l.up ? 'up' : 'down'}`);
    return [...routes.sort(), ...rules.sort(), ...links].join('\n');
  }
}
