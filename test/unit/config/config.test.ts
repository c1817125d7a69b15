/** Config schema and loader: every error reported with its path at once, defaults round-trip, source resolution. */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, parseYaml, resolveConfigPath, validateConfig } from '../../../agent/config/load.ts';
import { renderDefaultsYaml } from '../../../agent/config/defaults-yaml.ts';
import { isLwError } from '../../../agent/base/errors.ts';
import { DEFAULT_LISTEN } from '../../../agent/config/schema.ts';

const tmp = mkdtempSync(join(tmpdir(), 'lw-config-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
function file(name: string, text: string): string {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
}

test('empty input gives the embedded defaults', () => {
  const v = validateConfig({});
  assert.equal(v.ok, true);
  if (!v.ok) return;
  assert.equal(v.config.server.listen, DEFAULT_LISTEN);
  assert.equal(v.config.log.level, 'info');
  assert.equal(v.config.log.format, 'json');
  assert.deepEqual(v.config.uplinks, []);
  assert.deepEqual(v.config.sinks, []);
});

test('every problem is reported at once, each with its path', () => {
  const v = validateConfig({
    server: { listen: 'nope', tokn: 'x' },
    log: { level: 'loud' },
    uplinks: [{ name: 'Bad Name' }, { name: 'ok' }, { name: 'ok' }],
    bogus: 1,
  });
  assert.equal(v.ok, false);
  if (v.ok) return;
  const paths = v.problems.map((p) => p.path).sort();
  assert.deepEqual(paths, ['bogus', 'log.level', 'server.listen', 'server.tokn', 'uplinks[0].name', 'uplinks[2].name'].sort());
  const unknown = v.problems.find((p) => p.path === 'server.tokn');
  assert.match(unknown?.message ?? '', /unknown key/);
  assert.match(v.problems.find((p) => p.path === 'uplinks[2].name')?.message ?? '', /duplicate uplink name "ok"/);
});

test('token rules: too short, and token + tokenFile together', () => {
  const v = validateConfig({ server: { token: 'short', tokenFile: '/x' } });
  assert.equal(v.ok, false);
  if (v.ok) return;
  assert.deepEqual(v.problems.map((p) => p.path).sort(), ['server.token', 'server.tokenFile']);
});

test('wrong types name the expected type', () => {
  const v = validateConfig({ log: 'debug', server: { listen: 9780 } });
  assert.equal(v.ok, false);
  if (v.ok) return;
  assert.deepEqual(v.problems.map((p) => p.path).sort(), ['log', 'server.listen']);
  for (const p of v.problems) assert.match(p.message, /expected/);
});

test('a union that matches no form names the forms, or the problems inside the form the value has (never bare "Invalid input")', () => {
  const none = validateConfig({ uplinks: 5 });
  assert.equal(none.ok, false);
  if (none.ok) return;
  assert.deepEqual(none.problems, [{ path: 'uplinks', message: 'must be one of: array, object (received number)' }]);
  const inList = validateConfig({ uplinks: { list: [{ name: 5 }] } });
  assert.equal(inList.ok, false);
  if (inList.ok) return;
  assert.deepEqual(
    inList.problems.map((p) => p.path),
    ['uplinks.list[0].name'],
  );
  assert.match(inList.problems[0]?.message ?? '', /expected string/);
  const unknown = validateConfig({ uplinks: [{ name: 'wan', bogus: 1 }] });
  assert.equal(unknown.ok, false);
  if (unknown.ok) return;
  assert.deepEqual(
    unknown.problems.map((p) => p.path),
    ['uplinks[0].bogus'],
  );
  for (const v of [none, inList, unknown]) for (const p of v.problems) assert.doesNotMatch(p.message, /^Invalid input$/);
});

test('YAML syntax errors carry a line number', () => {
  const r = parseYaml('server:\n  listen: [unclosed\n');
  assert.ok(r.problems.length > 0);
  assert.match(r.problems[0]?.path ?? '', /yaml line \d+/);
  const dup = parseYaml('log:\n  level: info\n  level: debug\n');
  assert.ok(dup.problems.length > 0, 'duplicate keys are errors');
});

test('defaults round-trip: `config defaults` output validates and equals the embedded defaults', () => {
  const yaml = renderDefaultsYaml();
  assert.match(yaml, /# Status server address/);
  const parsed = parseYaml(yaml);
  assert.deepEqual(parsed.problems, []);
  const v = validateConfig(parsed.value);
  assert.equal(v.ok, true, v.ok ? '' : JSON.stringify(v.problems));
  const fromEmpty = validateConfig({});
  assert.ok(v.ok && fromEmpty.ok);
  if (v.ok && fromEmpty.ok) assert.deepEqual(v.config, fromEmpty.config);
});

test('defaults document the defaults of list items and of the { policy, list } form too', () => {
  const yaml = renderDefaultsYaml();
  assert.match(yaml, /^# {3}priority: 100$/m, 'uplink item default');
  assert.match(yaml, /^# {3}metered: false$/m);
  assert.match(yaml, /^# {3}policy:$/m, 'no misleading {} inside a comment block');
  assert.match(yaml, /^# {5}flushConntrack: true$/m, 'failover policy default');
  assert.match(yaml, /^# {5}tableBase: 7100$/m);
});

test('every key in the defaults has a comment above it', () => {
  const lines = renderDefaultsYaml().split('\n');
  lines.forEach((line, i) => {
    const m = /^(\s*)(#\s*)?([A-Za-z][A-Za-z0-9]*):/.exec(line);
    if (!m || line.trimStart().startsWith('# Each item') || /^\s*#\s+-/.test(line)) return;
    if (m[2] && !/^\s*#\s*[A-Za-z0-9]+:(\s|$)/.test(line)) return;
    const prev = lines[i - 1] ?? '';
    assert.match(prev, /^\s*#/, `key on line ${i + 1} has no comment: ${line}`);
  });
});

test('loadConfig: file errors are LW_CONFIG_INVALID with all problems; unreadable file is LW_CONFIG_UNREADABLE', () => {
  const bad = file('bad.yaml', 'server:\n  listen: x\nlog:\n  format: xml\n');
  assert.throws(
    () => loadConfig(bad),
    (e: unknown) => isLwError(e, 'LW_CONFIG_INVALID') && /server\.listen/.test(e.message) && /log\.format/.test(e.message),
  );
  assert.throws(
    () => loadConfig(join(tmp, 'missing.yaml')),
    (e: unknown) => isLwError(e, 'LW_CONFIG_UNREADABLE'),
  );
});

test('loadConfig resolves node name and state dir from the environment', () => {
  const p = file('ok.yaml', 'log:\n  level: debug\n');
  const l = loadConfig(p, { NODE_NAME: 'edge-17', STATE_DIRECTORY: '/var/lib/linkward:/other' });
  assert.equal(l.nodeName, 'edge-17');
  assert.equal(l.stateDir, '/var/lib/linkward');
  assert.equal(l.config.log.level, 'debug');
  assert.deepEqual(l.source, { kind: 'file', path: p });
  const withName = loadConfig(file('n.yaml', 'node:\n  name: from-config\n'), { NODE_NAME: 'env' });
  assert.equal(withName.nodeName, 'from-config');
});

test('tokenFile is read and trimmed', () => {
  const tok = file('token', 'abcdefghijklmnopqrstuvwxyz\n');
  const l = loadConfig(file('t.yaml', `server:\n  tokenFile: ${tok}\n`));
  assert.equal(l.token, 'abcdefghijklmnopqrstuvwxyz');
});

test('config file resolution order: flag, $LINKWARD_CONFIG, then defaults', () => {
  assert.equal(resolveConfigPath('/a.yaml', { LINKWARD_CONFIG: '/b.yaml' }), '/a.yaml');
  assert.equal(resolveConfigPath(undefined, { LINKWARD_CONFIG: '/b.yaml' }), '/b.yaml');
});

test('buffer.selfTelemetry.sink must name a prometheus-remote-write sink', () => {
  const missing = validateConfig({ buffer: { selfTelemetry: { sink: 'nope' } } });
  assert.equal(missing.ok, false);
  if (!missing.ok)
    assert.deepEqual(
      missing.problems.map((p) => p.path),
      ['buffer.selfTelemetry.sink'],
    );
  const wrong = validateConfig({
    sinks: [{ name: 'logs', url: 'http://127.0.0.1:3100/loki/api/v1/push', protocol: 'loki' }],
    buffer: { selfTelemetry: { sink: 'logs' } },
  });
  assert.equal(wrong.ok, false);
  if (!wrong.ok) assert.match(wrong.problems[0]?.message ?? '', /needs prometheus-remote-write/);
  const ok = validateConfig({
    sinks: [{ name: 'vm', url: 'http://127.0.0.1:8428/api/v1/write', protocol: 'prometheus-remote-write' }],
    buffer: { selfTelemetry: { sink: 'vm' } },
  });
  assert.equal(ok.ok, true);
});
