/**
 * Milliseconds on the system-wide monotonic clock (CLOCK_MONOTONIC through
 * process.hrtime), so that times taken in different processes on this machine
 * can be compared.
 */
export function monoMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export interface LatencySummary {
  count: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export function summarise(values: ArrayLike<number>): LatencySummary {
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  if (n === 0)
    return {
      count: 0,
      min: NaN,
      p50: NaN,
      p90: NaN,
      p99: NaN,
      max: NaN,
      mean: NaN,
    };
  // Nearest-rank percentile.
  const at = (q: number) =>
    sorted[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))];
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    count: n,
    min: round(sorted[0]),
    p50: round(at(0.5)),
    p90: round(at(0.9)),
    p99: round(at(0.99)),
    max: round(sorted[n - 1]),
    mean: round(sum / n),
  };
}

export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export const sleep = (ms: number) =>
  new Promise<void>((resolve) => setTimeout(resolve, ms));
