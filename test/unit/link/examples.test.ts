/** Keeps deploy/examples/link-gated-app.yaml honest: its probe path and `linkward wait` flags must match the real route and CLI. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command } from 'commander';
import { parse } from 'yaml';
import { DEFAULT_LISTEN } from '../../../agent/config/schema.ts';
import { parseCheckQuery } from '../../../agent/core/link-check.ts';
import { parseDuration, registerLinkCommands } from '../../../agent/cli/link.ts';

const FILE = resolve(import.meta.dirname, '../../../deploy/examples/link-gated-app.yaml');

interface Container {
  command?: string[];
  readinessProbe?: { httpGet?: { host?: string; port?: number; path?: string } };
}
interface Doc {
  spec: { template: { spec: { initContainers: Container[]; containers: Container[] } } };
}

test('example readinessProbe targets the agent on node loopback with a valid /readyz/link query', () => {
  const doc = parse(readFileSync(FILE, 'utf8')) as Doc;
  const probe = doc.spec.template.spec.containers[0]?.readinessProbe?.httpGet;
  assert.equal(probe?.host, '127.0.0.1', 'Pod Security baseline allows only 127.0.0.1 / ::1 as probe host');
  assert.equal(String(probe?.port), DEFAULT_LISTEN.split(':')[1]);
  const url = new URL(probe?.path ?? '', 'http://x');
  assert.equal(url.pathname, '/readyz/link');
  const { query, problems } = parseCheckQuery(url.searchParams);
  assert.deepEqual(problems, []);
  assert.deepEqual(query, { minDownMbps: 10, maxAgeS: 300 });
});

test('example init container runs `linkward wait` with flags the CLI accepts', () => {
  const doc = parse(readFileSync(FILE, 'utf8')) as Doc;
  const cmd = doc.spec.template.spec.initContainers[0]?.command ?? [];
  assert.deepEqual(cmd.slice(0, 2), ['linkward', 'wait']);
  const program = new Command('linkward');
  registerLinkCommands(program);
  const wait = program.commands.find((c) => c.name() === 'wait');
  const known = new Set(wait?.options.map((o) => o.long));
  const args = cmd.slice(2);
  for (let i = 0; i < args.length; i += 2) assert.ok(known.has(args[i]), `unknown flag ${args[i]}`);
  const value = (flag: string): string | undefined => args[args.indexOf(flag) + 1];
  assert.equal(parseDuration(value('--timeout') ?? ''), 600_000);
  assert.equal(parseDuration(value('--interval') ?? ''), 5_000);
  assert.ok(wait?.options.find((o) => o.long === '--until')?.argChoices?.includes(value('--until') ?? ''));
});
