/** /v1/status matches its published JSON Schema (docs/status-v1.schema.json, generated from agent/http/status-schema.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { REPO_ROOT, startDaemon } from '../../support/daemon.ts';
import { StatusDocSchema, STATUS_SCHEMA_VERSION, statusJsonSchema } from '../../../agent/http/status-schema.ts';
import { startProbeServer } from '../../../probes/server.ts';

/** How long the test waits for the first completed measurement (light probes every 500 ms on loopback). */
const FIRST_LINK_WAIT_MS = 15_000;

type Json = Record<string, unknown>;

/** Keys of `doc` that the schema does not declare (objects with `properties`; records and open maps are skipped). */
function undeclared(doc: unknown, schema: Json, path = ''): string[] {
  if (doc === null || typeof doc !== 'object') return [];
  const anyOf = (schema.anyOf ?? schema.oneOf) as Json[] | undefined;
  if (anyOf) return anyOf.map((s) => undeclared(doc, s, path)).reduce((a, b) => (a.length <= b.length ? a : b));
  if (Array.isArray(doc)) return schema.items ? doc.flatMap((v, i) => undeclared(v, schema.items as Json, `${path}[${i}]`)) : [];
  const props = schema.properties as Record<string, Json> | undefined;
  const extra = schema.additionalProperties as Json | undefined;
  const out: string[] = [];
  for (const [k, v] of Object.entries(doc as Json)) {
    const sub = props?.[k] ?? (props ? undefined : extra);
    if (props && !sub) out.push(`${path}.${k}`);
    else if (sub && typeof sub === 'object') out.push(...undeclared(v, sub, `${path}.${k}`));
  }
  return out;
}

test('docs/status-v1.schema.json is the generated schema (run node scripts/gen-status-schema.ts after changing it)', () => {
  const committed = JSON.parse(readFileSync(join(REPO_ROOT, 'docs', 'status-v1.schema.json'), 'utf8')) as Json;
  assert.deepEqual(committed, JSON.parse(JSON.stringify(statusJsonSchema())));
});

test("a real daemon's /v1/status (probes measuring, buffer and route on) parses with the schema and declares every field", { timeout: 60_000 }, async (t) => {
  const srv = await startProbeServer({ host: '127.0.0.1', port: 0 });
  t.after(() => srv.close());
  const d = await startDaemon({
    uplinks: { policy: { manageRoutes: false, dryRun: true }, list: [{ name: 'wan', interface: 'lo', priority: 10 }] },
    probes: { targets: [`linkward://127.0.0.1:${srv.port}`], intervalMs: 500, throughput: { url: `http://127.0.0.1:${srv.port}/`, maxBytes: 1_000_000 } },
    sinks: [{ name: 'app', url: 'http://127.0.0.1:9/x', protocol: 'ndjson' }],
    kubernetes: { enabled: false },
  });
  t.after(() => d.cleanup());
  let doc: Json = {};
  const until = Date.now() + FIRST_LINK_WAIT_MS;
  while (Date.now() < until) {
    doc = (await (await request(`${d.baseUrl}/v1/status`)).body.json()) as Json;
    if (doc.link) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.ok(doc.link, 'a measurement completed');
  const parsed = StatusDocSchema.safeParse(doc);
  assert.ok(parsed.success, JSON.stringify(parsed.error?.issues.slice(0, 5)));
  assert.equal(doc.schemaVersion, STATUS_SCHEMA_VERSION);
  assert.deepEqual(undeclared(doc, statusJsonSchema()), [], 'every field the daemon sends is in the schema');
});
