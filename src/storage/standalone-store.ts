/**
 * What the CLI and the service keep their state in: a database (SQLite by
 * default, PostgreSQL with STATE_URL) holding the state document and the
 * record of shipped ids. The extension uses webtask storage instead.
 */
import type { Config } from '../config';
import type { Logger, ShippedIds, StateStore } from '../ports';
import type { PostgresStateStore } from './postgres-state-store';
import type { SqliteStateStore } from './sqlite-state-store';

export interface StandaloneStore extends StateStore, ShippedIds {
  /** Which store this is, for error messages: "SQLite state store ./data/state.db". Never holds a password. */
  readonly description: string;
  /** Releases the database connection. */
  close(): Promise<void>;
}

/**
 * Only the chosen database's driver is loaded, and only here: `--version`, a
 * run stopped by its settings and a run on PostgreSQL never load the native
 * SQLite addon (nor pg on SQLite), which keeps a cron run's start-up short and
 * lets PostgreSQL users run on a Node that better-sqlite3 was not built for.
 */
export function createStandaloneStore(config: Config, log: Logger): StandaloneStore {
  if (config.stateUrl !== null) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on demand, see above
    const { PostgresStateStore: Store } = require('./postgres-state-store') as { PostgresStateStore: typeof PostgresStateStore };
    return new Store({ url: config.stateUrl, legacyFile: config.legacyStateFile, log });
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on demand, see above
  const { SqliteStateStore: Store } = require('./sqlite-state-store') as { SqliteStateStore: typeof SqliteStateStore };
  return new Store({ file: config.storageFile, legacyFile: config.legacyStateFile, log });
}
