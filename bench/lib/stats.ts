/** Summaries of repeated measurements: what a figure reports of its samples. */

/**
 * The p-th percentile (0..100) by linear interpolation between closest ranks
 * (numpy's default), so p50 of an even count is the mean of the middle two.
 */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) throw new RangeError('percentile of no samples');
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile ${p} is outside 0..100`);
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const below = Math.floor(rank);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below]! + (sorted[above]! - sorted[below]!) * (rank - below);
}

export function median(samples: readonly number[]): number {
  return percentile(samples, 50);
}

/** "lo..hi" of the samples, rounded as the figure is. */
export function spreadOf(samples: readonly number[], digits = 1): string {
  return `${round(Math.min(...samples), digits)}..${round(Math.max(...samples), digits)}`;
}

export function round(value: number, digits = 1): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
