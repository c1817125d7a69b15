/** CLI: `linkward init` — reads this machine's routes and links, proposes uplinks and targets, writes a validated, commented config. */
import { existsSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { run } from '../base/exec.ts';
import { LwError, ErrorCode, messageOf } from '../base/errors.ts';
import { Exit, exitForError } from './exit-codes.ts';
import { parseYaml, validateConfig } from '../config/load.ts';
import { parseAddrs, parseRoutes, type KernelRoute } from '../route/ip-state.ts';
import { describeInterfaces } from './interfaces.ts';
import { proposeUplinks, renderProposal } from './propose.ts';

/** `ip` answers in milliseconds; 5 s only trips on a hung command. */
const IP_TIMEOUT_MS = 5_000;
/** k3s's kubeconfig: its presence means this is a k3s node (server or agent with a copy). */
const K3S_KUBECONFIG = '/etc/rancher/k3s/k3s.yaml';

interface InitOptions {
  output?: string;
  force?: boolean;
}

async function ipJson(args: string[]): Promise<string> {
  return (await run('ip', ['-json', ...args], { timeoutMs: IP_TIMEOUT_MS, env: { ...process.env, LC_ALL: 'C' } })).stdout;
}

/** IPv6 main routes, or none where IPv6 is off or unreadable (the proposal then leaves IPv6 out; init goes on). */
async function ipv6Defaults(): Promise<KernelRoute[]> {
  try {
    return parseRoutes(await ipJson(['-6', 'route', 'show', 'table', 'main']), 6);
  } catch {
    return [];
  }
}

async function initAction(o: InitOptions): Promise<void> {
  try {
    if (o.output && existsSync(o.output) && !o.force) {
      throw new LwError(ErrorCode.CONFIG_INVALID, `${o.output} exists: linkward init never overwrites a config; pass --force, or --output another file`);
    }
    const routes = [...parseRoutes(await ipJson(['-4', 'route', 'show', 'table', 'main'])), ...(await ipv6Defaults())];
    const links = parseAddrs(await ipJson(['addr', 'show']));
    const proposal = proposeUplinks(routes, links, await describeInterfaces());
    const text = renderProposal(proposal, new Date().toISOString(), { kubernetes: existsSync(K3S_KUBECONFIG) });
    // never write what `config validate` would refuse
    const parsed = parseYaml(text);
    const valid = parsed.problems.length === 0 ? validateConfig(parsed.value) : { ok: false as const, problems: parsed.problems };
    if (!valid.ok)
      throw new LwError(
        ErrorCode.INTERNAL,
        `linkward init produced an invalid config (a bug; please report): ${valid.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
      );
    if (!o.output) {
      process.stdout.write(text);
    } else {
      writeFileSync(o.output, text, { mode: 0o640 });
      process.stderr.write(
        `wrote ${o.output}: ${proposal.uplinks.length} uplink(s): ${proposal.uplinks.map((u) => `${u.name} (${u.interface})`).join(', ') || 'none'}\n`,
      );
    }
    for (const t of proposal.todo) process.stderr.write(`to do: ${t}\n`);
    process.stderr.write(`next: review it, then \`linkward config validate ${o.output ?? 'FILE'}\` and (re)start linkward (systemctl restart linkward)\n`);
    process.exitCode = Exit.OK;
  } catch (e) {
    process.stderr.write(`linkward init: ${messageOf(e)}\n`);
    process.exitCode = exitForError(e);
  }
}

export function registerInitCommand(program: Command): void {
  program
    .command('init')
    .description(
      'Propose a config from this machine (uplinks from the routing table, probe targets), validated; prints it, or writes --output FILE (never overwrites without --force)',
    )
    .option('-o, --output <file>', 'write the config here (e.g. /etc/linkward/config.yaml) instead of printing it')
    .option('--force', 'overwrite --output if it exists')
    .action(initAction);
}
