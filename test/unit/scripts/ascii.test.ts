/** The shipped bundles are pure ASCII (V8 then keeps them one byte per character), and the escaping keeps meaning. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runInNewContext } from 'node:vm';
import { asciiBundle, escapeNonAscii, firstNonAscii } from '../../../scripts/build-ascii.mjs';

const DIST = resolve(import.meta.dirname, '../../../dist');

test('dist bundles (built by npm test before the tests) contain only ASCII bytes', () => {
  for (const f of ['linkward.mjs', 'kube-client.mjs']) {
    const bytes = readFileSync(join(DIST, f));
    assert.ok(bytes.length > 1_000_000, `${f} is the real bundle`);
    const bad = bytes.findIndex((b) => b > 0x7f);
    assert.equal(bad, -1, `${f}: byte >= 0x80 at ${bad}`);
  }
});

test('escaped source means the same: strings, templates, regex literals, identifiers, astral characters', () => {
  const src =
    "const café = 'naïve — ok'; const t = `° ${café}`; const r = /[^°]+/.exec('12°C')[0]; const e = '😀'.length; JSON.stringify({ café, t, r, e, u: /😀/u.test('😀') })";
  const escaped = escapeNonAscii(src);
  assert.equal(firstNonAscii(escaped), -1);
  assert.notEqual(escaped, src);
  assert.equal(runInNewContext(escaped), runInNewContext(src));
});

test('asciiBundle returns escaped text and the check sees any non-ASCII character', () => {
  assert.equal(asciiBundle('x.mjs', "'é'"), "'\\u00e9'");
  assert.equal(firstNonAscii('abc\u00e9'), 3);
});
