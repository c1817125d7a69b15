/** Number formatting for reasons and messages: short, stable, no trailing zeros (a leaf module: the lean CLI path uses it). */

/** Decimals used for a number of this size: 412, 3.1, 0.25. */
function decimals(n: number): number {
  const a = Math.abs(n);
  return a >= 100 ? 0 : a >= 1 ? 1 : 2;
}

/** Compact number for reasons: 3.1, 412, 0.25. */
export function fmt(n: number, extra = 0): string {
  return String(Number(n.toFixed(Math.min(6, decimals(n) + extra))));
}

/** Most extra decimals a comparison may need before it reads true (4.98 vs 5 needs 1: "4.98<5", never "5<5"). */
const MAX_EXTRA_DECIMALS = 4;

/**
 * A value and the limit it crossed, printed with the same rounding and enough digits that the printed comparison is
 * the one that was made: 4.98 against 5 reads `4.98<5`, not `5<5`.
 */
export function fmtPair(v: number, limit: number): [string, string] {
  for (let extra = 0; extra < MAX_EXTRA_DECIMALS; extra++) {
    const a = fmt(v, extra);
    const b = fmt(limit, extra);
    if (a !== b) return [a, b];
  }
  return [fmt(v, MAX_EXTRA_DECIMALS), fmt(limit, MAX_EXTRA_DECIMALS)];
}
