/**
 * Order statistics for benchmark samples.
 *
 * @module
 */

/**
 * The q-quantile of samples, linear interpolation between closest ranks
 * (numpy's default), so p50 of an even count is the mean of the middle two.
 *
 * @param samples Values in any order (not modified).
 * @param q Quantile in [0, 1].
 * @returns The quantile, or NaN for no samples.
 *
 * @example
 * ```ts
 * quantile([4, 1, 3, 2], 0.5); // 2.5
 * ```
 */
export function quantile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** p50, p95, p99 and the minimum of samples, rounded to 0.01. */
export interface Percentiles {
  /** Fastest sample: what the code does when it gets the CPU (a loaded machine inflates the others). */
  min: number;
  p50: number;
  p95: number;
  p99: number;
  /** Number of samples. */
  n: number;
}

/**
 * Summarises latency samples.
 *
 * @param samples Milliseconds.
 * @returns Minimum, p50/p95/p99 and the count.
 */
export function percentiles(samples: readonly number[]): Percentiles {
  return {
    min: round2(quantile(samples, 0)),
    p50: round2(quantile(samples, 0.5)),
    p95: round2(quantile(samples, 0.95)),
    p99: round2(quantile(samples, 0.99)),
    n: samples.length,
  };
}

/**
 * Rounds to two decimals (JSON results stay readable).
 *
 * @param x A number.
 * @returns `x` rounded to 0.01.
 */
export function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
