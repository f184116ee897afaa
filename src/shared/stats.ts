/** Summaries of samples: order statistics (nearest rank), histograms, and ratios taken pair by pair. */

export interface Summary {
  n: number;
  min: number;
  p10: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** The p-th percentile of an ascending array (nearest rank: a value that was measured). */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  if (sorted.length === 0) return NaN;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function summarize(values: ArrayLike<number>): Summary {
  const sorted = Float64Array.from(values).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  const n = sorted.length;
  return {
    n,
    min: n ? sorted[0]! : NaN,
    p10: percentile(sorted, 10),
    p50: n ? median(Array.from(sorted)) : NaN,
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: n ? sorted[n - 1]! : NaN,
    mean: n ? sum / n : NaN,
  };
}

/** femtovm[i] / baseline[i], round by round: each pair was measured back to back. */
export function pairRatios(femtovm: readonly number[], baseline: readonly number[]): number[] {
  return femtovm.map((f, i) => f / baseline[i]!);
}

export interface Histogram {
  /** Bin edges (edges.length = counts.length + 1); the last bin also holds everything above it. */
  edges: number[];
  counts: number[];
}

/**
 * Histograms of several samples over shared, evenly spaced bins from the smallest value to the
 * 99.5th percentile of all samples (the tail beyond is counted in the last bin).
 */
export function histograms(samples: readonly ArrayLike<number>[], bins = 40): Histogram[] {
  const all = Float64Array.from(samples.flatMap((s) => Array.from(s))).sort();
  if (all.length === 0) return samples.map(() => ({ edges: [], counts: [] }));
  const lo = all[0]!;
  let hi = percentile(all, 99.5);
  if (hi <= lo) hi = lo + 1;
  const width = (hi - lo) / bins;
  const edges = Array.from({ length: bins + 1 }, (_, i) => lo + i * width);
  return samples.map((s) => {
    const counts = new Array<number>(bins).fill(0);
    for (let i = 0; i < s.length; i++) counts[Math.min(bins - 1, Math.floor((s[i]! - lo) / width))]!++;
    return { edges, counts };
  });
}
