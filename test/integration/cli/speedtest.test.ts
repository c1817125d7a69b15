/** `linkward test`: a throughput test inside the running daemon, with progress while it runs and the daemon's figures at the end. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { CLI, startDaemon } from '../../support/daemon.ts';
import { startProbeServer } from '../../../probes/server.ts';

const CLI_TIMEOUT_MS = 60_000;

function linkward(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    execFile(process.execPath, [CLI, ...args], { timeout: CLI_TIMEOUT_MS }, (err, stdout, stderr) => {
      res({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

test('linkward test runs download and upload in the daemon, prints progress on stderr and the figures; --json carries them', {
  timeout: 120_000,
}, async (t) => {
  const srv = await startProbeServer({ host: '127.0.0.1', port: 0 });
  t.after(() => srv.close());
  const url = `http://127.0.0.1:${srv.port}/`;
  const d = await startDaemon({
    uplinks: [{ name: 'wan' }],
    probes: { targets: [`linkward://127.0.0.1:${srv.port}`], throughput: { url, maxBytes: 4_000_000 } },
    kubernetes: { enabled: false },
  });
  t.after(() => d.cleanup());
  const address = d.baseUrl.replace('http://', '');

  const plain = await linkward(['test', '--address', address]);
  assert.equal(plain.code, 0, plain.stderr + plain.stdout);
  assert.match(plain.stdout, /^wan:\n  download: (≥ )?[\d.]+ Mbit\/s/m);
  assert.match(plain.stdout, /^  upload: (≥ )?[\d.]+ Mbit\/s/m);
  assert.match(plain.stderr, /^wan (download|upload) [\d.]+ Mbit\/s +[\d.]+ MB +[\d.]+ s$/m, `progress lines while it ran: ${plain.stderr}`);

  const json = await linkward(['test', '--address', address, '--json', '--download']);
  assert.equal(json.code, 0, json.stderr);
  const doc = JSON.parse(json.stdout) as { results: { uplink: string; ran: boolean; download?: { mbps?: number }; upload?: unknown }[] };
  assert.equal(doc.results.length, 1);
  assert.equal(doc.results[0]?.ran, true);
  assert.ok((doc.results[0]?.download?.mbps ?? 0) > 0, JSON.stringify(doc.results[0]));
  assert.equal(doc.results[0]?.upload, undefined, '--download runs only the download');

  const unknown = await linkward(['test', '--address', address, '--uplink', 'nosuch']);
  assert.equal(unknown.code, 2, 'an unknown uplink is refused (404 → fix the input)');
  assert.match(unknown.stderr, /nosuch/);
});
