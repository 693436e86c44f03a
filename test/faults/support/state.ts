/**
 * Reading the exporter's stored state from outside, while it runs: the
 * standalone SQLite database or the webtask host's storage file (see
 * test/support/stored-state.ts).
 */
import { readFileSync, statSync } from 'node:fs';
import type { StateDocument } from '../../../src/storage/state';
import { compareIds } from '../../support/events';
import { readStoredState, tryReadStoredState } from '../../support/stored-state';

/** The state document, or undefined when there is none yet or it is mid-write. */
export function tryReadState(file: string): StateDocument | undefined {
  return tryReadStoredState(file);
}

export function readState(file: string): StateDocument {
  return readStoredState(file);
}

/** Content and modification time: equal fingerprints mean the file was not touched. */
export function fingerprint(file: string): string | null {
  try {
    return `${statSync(file).mtimeMs}:${readFileSync(file, 'utf8')}`;
  } catch {
    return null;
  }
}

export interface CheckpointHistory {
  samples: number;
  /** Distinct checkpoints seen, in the order seen. */
  seen: string[];
  /** "a -> b" for every sample whose checkpoint was older than the previous one. */
  regressions: string[];
}

/**
 * Samples the stored checkpoint every `everyMs` until stopped. A checkpoint
 * that ever moves backwards is recorded as a regression.
 */
export function sampleCheckpoints(file: string, everyMs = 10): { stop(): CheckpointHistory } {
  const history: CheckpointHistory = { samples: 0, seen: [], regressions: [] };
  let last: string | null = null;
  const sample = (): void => {
    const checkpoint = tryReadState(file)?.checkpoint ?? null;
    if (checkpoint === null) return;
    history.samples++;
    if (last !== null && compareIds(checkpoint, last) < 0) history.regressions.push(`${last} -> ${checkpoint}`);
    if (checkpoint !== last) history.seen.push(checkpoint);
    last = checkpoint;
  };
  const timer = setInterval(sample, everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      sample();
      return history;
    },
  };
}
