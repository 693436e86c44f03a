import type { StateStore } from '../ports';
import { compareLogIds, type StateDocument } from '../storage/state';

/**
 * Records a shipped page. The checkpoint only ever moves forward here: a
 * slower writer that saw an older state can never pull it back.
 */
export function saveCheckpoint(store: StateStore, checkpoint: string, newestDate: string | null): Promise<StateDocument> {
  return store.update((state) => {
    const forward = state.checkpoint === null || compareLogIds(checkpoint, state.checkpoint) > 0;
    const newer = newestDate !== null && (state.newestExportedDate === null || Date.parse(newestDate) > Date.parse(state.newestExportedDate));
    return {
      ...state,
      checkpoint: forward ? checkpoint : state.checkpoint,
      newestExportedDate: newer ? newestDate : state.newestExportedDate,
    };
  });
}

/**
 * A deliberate jump to START_FROM: the one place the checkpoint may move
 * backwards, because a user asked for it. Remembering the value applied keeps
 * a setting left in place from replaying on every run.
 */
export function applyStartFrom(store: StateStore, startFrom: string): Promise<StateDocument> {
  return store.update((state) => ({ ...state, checkpoint: startFrom, startFrom }));
}
