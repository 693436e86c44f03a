/**
 * What the CLI and the service keep their state in: a database (SQLite by
 * default, PostgreSQL with STATE_URL) holding the state document and the
 * record of shipped ids. The extension uses webtask storage instead.
 */
import type { Config } from '../config';
import type { Logger, ShippedIds, StateStore } from '../ports';
import { PostgresStateStore } from './postgres-state-store';
import { SqliteStateStore } from './sqlite-state-store';

export interface StandaloneStore extends StateStore, ShippedIds {
  /** Which store this is, for error messages: "SQLite state store ./data/state.db". Never holds a password. */
  readonly description: string;
  /** Releases the database connection. */
  close(): Promise<void>;
}

export function createStandaloneStore(config: Config, log: Logger): StandaloneStore {
  if (config.stateUrl !== null) return new PostgresStateStore({ url: config.stateUrl, legacyFile: config.legacyStateFile, log });
  return new SqliteStateStore({ file: config.storageFile, legacyFile: config.legacyStateFile, log });
}
