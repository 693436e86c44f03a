/**
 * Where a run starts. In order:
 *   1. START_FROM, when it differs from the value last applied: a deliberate
 *      jump (applied once, so leaving the setting in place does not replay);
 *   2. the stored checkpoint;
 *   3. otherwise the oldest retained log, in checkpoint mode (see checkpoint-id.ts).
 */
import { bootstrapCheckpoint } from '../auth0/checkpoint-id';
import type { StateDocument } from '../storage/state';

export type StartSource = 'checkpoint' | 'START_FROM' | 'oldest-retained';

export interface StartPoint {
  from: string;
  source: StartSource;
}

export function readCheckpoint(state: StateDocument, startFrom: string | null, now: number): StartPoint {
  if (startFrom !== null && startFrom !== state.startFrom) return { from: startFrom, source: 'START_FROM' };
  if (state.checkpoint !== null) return { from: state.checkpoint, source: 'checkpoint' };
  return { from: bootstrapCheckpoint(now), source: 'oldest-retained' };
}
