/** The test tree's own rules: paths mirror the source packages, and the unit tier is pure (no processes, sockets or real time). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** Source packages a test area may be named after (agent/<dir>, probes, buffer, scripts, the root as `daemon`). */
const SOURCE_AREAS = [
  'base',
  'core',
  'config',
  'runtime',
  'link',
  'route',
  'k8s',
  'history',
  'state',
  'systemd',
  'http',
  'cli',
  'probes',
  'buffer',
  'daemon',
  'scripts',
];
/** Areas that test something other than one source package: the tree's rules, shipped artefacts, the whole mission. */
const OTHER_AREAS: Record<string, string> = {
  architecture: 'rules over the source tree',
  deploy: 'deploy/ manifests',
  monitoring: 'deploy/monitoring',
  packaging: 'packaging/ and the release scripts',
  page: 'the status page through a browser (agent/http and agent/history together)',
  site: 'the edge-site lab: every feature at once',
};

function testFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) testFiles(path, out);
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

test('every test area is named after a source package (or a listed cross-cutting area)', () => {
  const bad: string[] = [];
  for (const tier of ['unit', 'integration', 'lab']) {
    for (const file of testFiles(join(ROOT, 'test', tier))) {
      const area = relative(join(ROOT, 'test', tier), file).split('/')[0] ?? '';
      if (!SOURCE_AREAS.includes(area) && !(area in OTHER_AREAS)) bad.push(relative(ROOT, file));
    }
  }
  assert.deepEqual(bad, []);
});

test('the unit tier is pure: no processes, sockets, servers or real timers', () => {
  const forbidden = /from 'node:(child_process|net|http|https|dgram|worker_threads)'|\bsystemClock\b|\bsetTimeout\(|\bsetInterval\(|\bfetch\(/;
  const bad = testFiles(join(ROOT, 'test', 'unit'))
    .filter((f) => !f.endsWith('tests-layout.test.ts'))
    .filter((f) => forbidden.test(readFileSync(f, 'utf8')))
    .map((f) => relative(ROOT, f));
  assert.deepEqual(bad, [], 'move these to test/integration (or inject a ManualClock / fake)');
});
