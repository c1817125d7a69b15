/** Terminal sparklines: fixed width, scaled to the largest value or a given top, gaps as spaces. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sparkline, sparkValues } from '../../../agent/history/sparkline.ts';

const b = (t: number, avg: number) => ({ t, min: avg, avg, max: avg, n: 1 });

test('one column per slice of the window; a slice without data is a space, not a zero', () => {
  assert.equal(sparkline([b(0, 0), b(10, 50), b(30, 100)], 0, 40, 4), '▁▅ █');
  assert.equal(sparkline([b(0, 5)], 0, 40, 4, 100), '▁   ', 'a fixed top (loss %): 5 % stays low');
  assert.equal(sparkline([], 0, 40, 3), '   ');
  assert.equal(sparkline([b(0, 0), b(20, 0)], 0, 40, 2), '▁▁', 'all zero: the lowest block');
  assert.equal(sparkValues([1, null, 2], 5), '▅ █');
});
