/** Number formatting for reasons and messages: short, stable, no trailing zeros (a leaf module: the lean CLI path uses it). */

/** Compact number for reasons: 3.1, 412, 0.25. */
export function fmt(n: number): string {
  const a = Math.abs(n);
  return String(Number(n.toFixed(a >= 100 ? 0 : a >= 1 ? 1 : 2)));
}
