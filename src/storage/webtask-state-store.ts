/**
 * StateStore over webtask storage (`ctx.storage`): one JSON document of at
 * most 500 KB with "basic conflict detection". A `set` without `force` fails
 * with a 409 (err.code === 409, or err.conflict in the local runtime) when the
 * document changed since our `get`; we then re-read and re-apply the change.
 * The original extension wrote with `force`, so overlapping runs overwrote
 * each other.
 */
import { StateConflictError, StorageError } from '../errors';
import type { StateStore } from '../ports';
import { normalizeState, type StateDocument } from './state';

export interface WebtaskStorage {
  get(callback: (error: unknown, data?: unknown) => void): void;
  set(data: unknown, options: { force?: boolean | number; etag?: string | null }, callback: (error?: unknown) => void): void;
  /** The version of the document last read or written, where the runtime exposes it. */
  readonly etag?: string | null;
}

/** Keep well under the platform's 500 KB so a write never fails for size. */
export const MAX_DOCUMENT_BYTES = 400 * 1024;
const MAX_ATTEMPTS = 10;

function isConflict(error: unknown): boolean {
  const e = error as { code?: unknown; statusCode?: unknown; conflict?: unknown } | undefined;
  return e?.code === 409 || e?.statusCode === 409 || e?.conflict !== undefined;
}

/** Drops the oldest run records until the document fits. */
export function fitDocument(state: StateDocument): StateDocument {
  let fitted = state;
  while (fitted.runs.length > 0 && Buffer.byteLength(JSON.stringify(fitted)) > MAX_DOCUMENT_BYTES) {
    fitted = { ...fitted, runs: fitted.runs.slice(Math.max(1, Math.floor(fitted.runs.length / 10))) };
  }
  return fitted;
}

export class WebtaskStateStore implements StateStore {
  constructor(private readonly storage: WebtaskStorage) {}

  async read(): Promise<StateDocument> {
    return (await this.readVersioned()).state;
  }

  private readVersioned(): Promise<{ state: StateDocument; etag: string | null | undefined }> {
    return new Promise((resolve, reject) => {
      this.storage.get((error, data) => {
        if (error) reject(new StorageError(`Cannot read webtask storage: ${describe(error)}`, { cause: error }));
        // Our writes never hand the runtime an object we keep, so the document read is ours to copy.
        else resolve({ state: normalizeState(structuredClone(data)), etag: this.storage.etag });
      });
    });
  }

  async update(change: (current: StateDocument) => StateDocument): Promise<StateDocument> {
    for (let attempt = 1; ; attempt++) {
      const { state, etag } = await this.readVersioned();
      const next = fitDocument(change(state));
      try {
        await new Promise<void>((resolve, reject) => {
          // Passing the etag read makes the write conditional: a 409 if anyone wrote in between.
          this.storage.set(structuredClone(next), etag === undefined ? {} : { etag }, (error) => (error ? reject(error) : resolve()));
        });
        return next;
      } catch (error) {
        if (!isConflict(error)) throw new StorageError(`Cannot write webtask storage: ${describe(error)}`, { cause: error });
        if (attempt >= MAX_ATTEMPTS) throw new StateConflictError(`Webtask storage kept changing under ${MAX_ATTEMPTS} attempts to write it.`, { cause: error });
        await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 20 * attempt));
      }
    }
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
