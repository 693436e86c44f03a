/**
 * Auth0 `log_id`s are 56 decimal digits: "900", the UTC ingestion time as
 * yyyymmddHHMMSS, then 39 more digits. The format is undocumented, but
 * Elastic's Auth0 poller relies on it the same way: an id built from a time
 * with zero digits after it precedes every real id from that second on.
 *
 * Starting in checkpoint mode from such an id fixes the original's first run,
 * which read a search-mode page sorted by `date` and took its last id as the
 * checkpoint: dates jitter by seconds against `log_id` order, so events at
 * that page boundary were lost or shipped twice.
 */

/** Longer than the longest plan's log retention (30 days), so the first run starts at the oldest retained log. */
export const BOOTSTRAP_LOOKBACK_MS = 31 * 24 * 3600 * 1000;

export function checkpointIdAt(epochMs: number): string {
  const d = new Date(epochMs);
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  const stamp = `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
  return `900${stamp}${'0'.repeat(39)}`;
}

export function bootstrapCheckpoint(now: number): string {
  return checkpointIdAt(now - BOOTSTRAP_LOOKBACK_MS);
}
