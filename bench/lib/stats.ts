/**
 * A figure is the median of N runs, kept with its spread: on a shared 2-core
 * machine a single run can be off by a lot, and min/max show how much.
 */
export interface Figure {
  median: number;
  min: number;
  max: number;
  /** Every run's value, in run order, for anyone re-reading the JSON. */
  values: number[];
}

export function summarize(values: readonly number[]): Figure {
  if (values.length === 0) throw new RangeError('a figure needs at least one value');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
  return { median, min: sorted[0] as number, max: sorted[sorted.length - 1] as number, values: [...values] };
}
