/**
 * Start: where the run begins. A range in doubt recorded by an earlier run is
 * shipped first (the checkpoint goes back to before it); START_FROM, when set,
 * restarts the export and forgets the shipped ids; else the saved checkpoint.
 */
import type { Config } from '../config';
import type { ShippedIds, StateStore } from '../ports';
import { forgetShippedIds } from '../storage/retention';
import { readCheckpoint } from './read-checkpoint';
import type { RunReport } from './run-report';
import { applyStartFrom } from './save-checkpoint';
import { reshipFirst } from './take-back';

/**
 * `store` is the run's fenced view. Notes the start (and any warning) in `report`, and in `lag` the
 * newest event exported so far (by any run), as soon as it is read. Returns the checkpoint to start from.
 */
export async function startRun(store: StateStore, shipped: ShippedIds | undefined, config: Config, now: number, report: RunReport, lag: { newestDate: string | null }): Promise<string> {
  let state = await store.read();
  if (state.reship !== null && config.startFrom === null) {
    const reshipped = await reshipFirst(store, state);
    if (reshipped) {
      report.reshipped = reshipped;
      report.warnings.push(`Shipping first the pages in doubt left by an earlier run (after log ${reshipped.after} through ${reshipped.through}).`);
    }
    state = await store.read();
  }
  lag.newestDate = state.newestExportedDate;
  const start = readCheckpoint(state, config.startFrom, now);
  if (start.source === 'START_FROM') {
    await applyStartFrom(store, start.from);
    if (shipped) await forgetShippedIds(shipped);
    report.warnings.push(`START_FROM applied: export restarted after log ${start.from}.`);
  }
  report.startSource = start.source;
  report.startCheckpoint = report.checkpoint = start.from;
  return start.from;
}
