/**
 * `linkward node show|release` when the daemon refuses: its message reaches the operator, nothing is printed as a
 * result, and the exit code follows OPERATIONS.md's table: 1 for a 5xx (retrying may fix it), 2 for a 4xx refusal.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { PassThrough } from 'node:stream';
import { nodeReleaseCommand, nodeShowCommand } from '../../../agent/cli/node.ts';
import { Exit } from '../../../agent/cli/exit-codes.ts';

function sink(): { s: PassThrough; text: () => string } {
  const s = new PassThrough();
  let buf = '';
  s.on('data', (c: Buffer) => (buf += c.toString()));
  return { s, text: () => buf };
}

/** A daemon that answers every request with `status` and `body`; the factory API must never be used. */
async function refusingDaemon(status: number, body: unknown): Promise<{ address: string; srv: Server }> {
  const srv = createServer((_req, res) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  return { address: `127.0.0.1:${(srv.address() as { port: number }).port}`, srv };
}

const noDirectApi = async (): Promise<never> => {
  throw new Error('the direct API must not be used when the daemon answered');
};

const CASES = [
  {
    status: 503,
    body: { error: { code: 'LW_K8S_UNAVAILABLE', message: 'Kubernetes API failing (LW_K8S_UNAVAILABLE)' } },
    says: /Kubernetes API failing/,
  },
  {
    status: 409,
    body: { error: { code: 'LW_K8S_NO_CLUSTER', message: 'no cluster: node actions are off' } },
    says: /no cluster: node actions are off/,
  },
  {
    status: 401,
    body: { error: { code: 'LW_HTTP_UNAUTHORIZED', message: 'missing or wrong bearer token' } },
    says: /missing or wrong bearer token/,
  },
  { status: 502, body: { something: 'else' }, says: /daemon answered 502/ },
];

for (const c of CASES) {
  test(`daemon answers ${c.status}: show and release print its message and exit ${c.status >= 500 ? 1 : 2}`, async (t) => {
    const d = await refusingDaemon(c.status, c.body);
    t.after(() => d.srv.close());
    for (const run of [nodeShowCommand, nodeReleaseCommand]) {
      const out = sink();
      const err = sink();
      const code = await run({ address: d.address, token: 't' }, out.s, err.s, { createApi: noDirectApi });
      assert.equal(code, c.status >= 500 ? Exit.FAILURE : Exit.DOWN, `${run.name}: ${err.text()}`);
      assert.match(err.text(), c.says, run.name);
      assert.equal(out.text(), '');
    }
  });
}
