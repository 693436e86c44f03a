/** Checks over a recorded run history. */
import type { RunRecord } from '../../src/storage/state';

/** Pairs of recorded runs whose [startedAt, finishedAt] intervals overlap; empty when runs never ran at once. */
export function overlaps(runs: readonly RunRecord[]): string[] {
  const sorted = [...runs].sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt));
  const found: string[] = [];
  for (let i = 1; i < sorted.length; i++) {
    const previous = sorted[i - 1] as RunRecord;
    const current = sorted[i] as RunRecord;
    if (Date.parse(current.startedAt) < Date.parse(previous.finishedAt)) found.push(`${previous.id} (${previous.startedAt}-${previous.finishedAt}) and ${current.id} (${current.startedAt})`);
  }
  return found;
}
