/**
 * The state store opens and takes a write transaction (changing nothing): the
 * same driver, file or database, and permissions a run will use.
 */
import type { Config } from '../config';
import { toErrorRecord } from '../errors';
import type { StateStore } from '../ports';
import { failed, ok, type CheckItem } from './checklist';

const NAME = 'state store opens and is writable';

/** The store to check, and how to release it (the CLI opens its own; the HTTP app lends the request's). */
export interface StoreUnderCheck {
  store: StateStore;
  /** For the checklist, e.g. "SQLite state store ./data/state.db"; never a password. */
  description: string;
  close(): Promise<void>;
}

export async function checkStore(config: Config, open: () => StoreUnderCheck): Promise<CheckItem> {
  let opened: StoreUnderCheck | undefined;
  try {
    opened = open();
    const before = await opened.store.read();
    await opened.store.update((state) => state);
    return ok(NAME, `${opened.description} (checkpoint ${before.checkpoint ?? 'none yet'})`);
  } catch (error) {
    const message = toErrorRecord(error).message;
    const fix = config.stateUrl !== null
      ? 'check STATE_URL: the server runs and is reachable, the database exists, and the user may create tables and write.'
      : message.includes('npm rebuild better-sqlite3')
        ? 'run `npm rebuild better-sqlite3` where this program is installed, or set STATE_URL to keep the state in PostgreSQL.'
        : `STORAGE_FILE (${config.storageFile}) must be a file this user may create and write, in a directory that exists or can be created.`;
    return failed(NAME, message, fix);
  } finally {
    await opened?.close();
  }
}
