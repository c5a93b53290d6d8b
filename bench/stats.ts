/** Summary of a set of timings, all in the unit they were given in. */
export interface Summary {
  count: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

export function summarize(samples: number[]): Summary {
  const sorted = Float64Array.from(samples).sort();
  const count = sorted.length;
  if (count === 0) return { count, p50: NaN, p99: NaN, p999: NaN, max: NaN, mean: NaN };
  // Nearest-rank percentiles: the value below which the given share of samples falls.
  const rank = (q: number) => sorted[Math.min(count - 1, Math.ceil(q * count) - 1)] ?? NaN;
  let total = 0;
  for (const value of sorted) total += value;
  return {
    count,
    p50: rank(0.5),
    p99: rank(0.99),
    p999: rank(0.999),
    max: sorted[count - 1] ?? NaN,
    mean: total / count,
  };
}

/** A number with about three significant digits, for tables. */
export function fmt(value: number, digits = 3): string {
  if (!Number.isFinite(value)) return 'n/a';
  if (Math.abs(value) >= 10 ** digits) return Math.round(value).toLocaleString('en-US');
  return Number(value.toPrecision(digits)).toLocaleString('en-US', { maximumFractionDigits: 3 });
}

export function mib(bytes: number): number {
  return bytes / 1024 / 1024;
}
