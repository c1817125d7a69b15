// The byte-level JSON check agrees with JSON.parse: fixed cases, then seeded random texts and their mutations.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jsonProblem, ndjsonProblem } from '../../../buffer/json-check.ts';
import { prng } from '../../support/link-samples.ts';

/** Texts per seeded run: each a random JSON value, then a few byte mutations of it (bounded, ~0.5 s). */
const RANDOM_TEXTS = 4_000;
const MUTATIONS_PER_TEXT = 6;

const parses = (b: Buffer): boolean => {
  try {
    JSON.parse(b.toString('utf8'));
    return true;
  } catch {
    return false;
  }
};

const check = (text: string | Buffer): string | null => jsonProblem(typeof text === 'string' ? Buffer.from(text) : text);

describe('jsonProblem (issue 12: ingest validates ndjson without building values)', () => {
  it('accepts what JSON.parse accepts', () => {
    for (const t of [
      '0',
      '-0',
      '1',
      '-12.5e+3',
      '1E5',
      '0.0e-0',
      '123456789012345678901234567890',
      '"x"',
      '""',
      '"\\u00e9\\n\\"\\\\\\/\\b\\f\\r\\t"',
      'true',
      'false',
      'null',
      '[]',
      '{}',
      ' [ ] ',
      '\t{ }\r\n',
      '[1,[2,[3,{}]],{"a":{"b":[null]}}]',
      '{"a":1,"b":"c","a":2}',
      '"é ü 日本"',
      '"\u2028"',
      '{"":""}',
    ])
      assert.equal(check(t), null, t);
  });

  it('refuses what JSON.parse refuses, saying what and where', () => {
    const cases: [string, RegExp][] = [
      ['', /unexpected end .* expected a value/],
      ['   ', /unexpected end/],
      ['01', /unexpected "1" at position 1; expected the end/],
      ['-', /unexpected end .*expected a digit/],
      ['1.', /end of the text \(position 2\); expected a digit/],
      ['.5', /unexpected "\."/],
      ['1e', /expected a digit/],
      ['1e+', /expected a digit/],
      ['+1', /unexpected "\+"/],
      ['tru', /unexpected end/],
      ['nulls', /unexpected "s"/],
      ['"abc', /unterminated string/],
      ['"a\tb"', /control character 0x09 inside a string at position 2/],
      ['"\\x"', /bad escape/],
      ['"\\u12G4"', /bad escape/],
      ['[1,]', /unexpected "\]" at position 3; expected a value/],
      ['[1 2]', /expected "," or "\]"/],
      ['{,}', /expected a string key/],
      ['{"a"}', /expected ":"/],
      ['{"a":}', /expected a value/],
      ['{1:2}', /expected a string key/],
      ['{"a":1,}', /expected a string key/],
      ['[', /unexpected end/],
      ['{"a":[1}', /expected "," or "\]"/],
      ['{} {}', /expected the end after the value/],
      ["{'a':1}", /expected a string key/],
      ['NaN', /unexpected "N"/],
    ];
    for (const [t, re] of cases) {
      assert.equal(parses(Buffer.from(t)), false, `JSON.parse accepts ${t}`);
      assert.match(check(t) ?? 'null', re, t);
    }
    assert.match(check(Buffer.from([0x7b, 0xc3, 0xa9])) ?? '', /byte 0xc3 at position 1/);
    assert.match(check(Buffer.from('\ufeff{}')) ?? '', /byte 0xef/);
  });

  it('accepts bytes above 0x7f inside strings without a UTF-8 check, as JSON.parse after decoding does', () => {
    const bad = Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xff, 0xc3, 0xe2, 0x80]), Buffer.from('"}')]);
    assert.equal(parses(bad), true);
    assert.equal(check(bad), null);
  });

  it('checks a slice of a buffer only, and deep nesting needs no recursion', () => {
    const b = Buffer.from('xx{"a":[1]}yy');
    assert.equal(jsonProblem(b, 2, 11), null);
    assert.match(jsonProblem(b, 2, 12) ?? '', /unexpected "y" at position 9/);
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    assert.equal(parses(Buffer.from(deep)), true);
    assert.equal(check(deep), null);
    assert.match(check('['.repeat(100_000) + ']'.repeat(99_999)) ?? '', /unexpected end/);
  });

  it('agrees with JSON.parse on seeded random texts and byte mutations of them', (t) => {
    const seed = Number(process.env.LINKWARD_TEST_SEED ?? Math.floor(Math.random() * 1e9));
    t.diagnostic(`seed ${seed} (LINKWARD_TEST_SEED replays it)`);
    const rnd = prng(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    const value = (depth: number): unknown => {
      const k = Math.floor(rnd() * (depth > 3 ? 4 : 6));
      if (k === 0) return pick([0, -1, 1.5, 1e21, -2.5e-7, 123456, 0.1]);
      if (k === 1) return pick(['', 'a', 'é', '日本', 'q"uote', 'back\\slash', 'nl\nx', '\u0001', '\u2028', 'tab\t']);
      if (k === 2) return pick([true, false]);
      if (k === 3) return null;
      if (k === 4) return Array.from({ length: Math.floor(rnd() * 4) }, () => value(depth + 1));
      return Object.fromEntries(Array.from({ length: Math.floor(rnd() * 4) }, (_, i) => [`k${i}`, value(depth + 1)]));
    };
    // bytes that matter to the grammar, plus a few that never appear in valid JSON outside strings
    const alphabet = Buffer.from('{}[],:"\\ \t\r\n0123456789-+.eEtrufalsn/bu\u0001xA\u00ff');
    let agreed = 0;
    for (let n = 0; n < RANDOM_TEXTS; n++) {
      const text = Buffer.from(JSON.stringify(value(0), null, rnd() < 0.3 ? 1 : undefined));
      assert.equal(check(text), null, text.toString());
      for (let m = 0; m < MUTATIONS_PER_TEXT; m++) {
        const at = Math.floor(rnd() * (text.length + 1));
        const op = Math.floor(rnd() * 3);
        const byte = Buffer.from([pick([...alphabet])]);
        const mutated =
          op === 0
            ? Buffer.concat([text.subarray(0, at), text.subarray(at + 1)])
            : op === 1
              ? Buffer.concat([text.subarray(0, at), byte, text.subarray(at)])
              : Buffer.concat([text.subarray(0, at), byte, text.subarray(at + 1)]);
        assert.equal(check(mutated) === null, parses(mutated), `seed ${seed}: ${JSON.stringify(mutated.toString('latin1'))}`);
        agreed++;
      }
    }
    assert.equal(agreed, RANDOM_TEXTS * MUTATIONS_PER_TEXT);
  });
});

describe('ndjsonProblem', () => {
  it('checks every line, allows blank ones, and numbers the first bad line', () => {
    assert.equal(ndjsonProblem(Buffer.from('{"a":1}\n\n  \r\n{"b":2}\r\n')), null);
    assert.equal(ndjsonProblem(Buffer.from('')), null);
    assert.equal(ndjsonProblem(Buffer.from('\n\n')), null);
    assert.equal(ndjsonProblem(Buffer.from('{"a":1}')), null);
    assert.match(
      ndjsonProblem(Buffer.from('{"a":1}\n{oops\n{"c":3}')) ?? '',
      /^line 2 is not valid JSON: unexpected "o" at position 1; expected a string key$/,
    );
    assert.match(ndjsonProblem(Buffer.from('1\n2\n[3,]')) ?? '', /^line 3 is not valid JSON/);
    // a JSON text split over two lines is two bad lines, as before (each line is one record)
    assert.match(ndjsonProblem(Buffer.from('{"a":\n1}')) ?? '', /^line 1 /);
  });
});
