/**
 * Earlier versions kept the standalone state in a JSON file, and the original
 * extension's state was a `{ "checkpointId": … }` document. The store that
 * creates a database imports such a file once: the file is first renamed to
 * `<file>.migrated` (so that it is read once, and kept), then its content goes
 * into the new database in the transaction that creates the tables.
 */
import { closeSync, openSync, readFileSync, readSync, renameSync } from 'node:fs';
import { StorageError } from '../errors';
import { normalizeState, type StateDocument } from './state';

const SQLITE_HEADER = 'SQLite format 3\u0000';

export function migratedName(file: string): string {
  return `${file}.migrated`;
}

/** Whether `file` exists and holds something other than an SQLite database. */
function holdsJson(file: string): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return false;
  }
  try {
    const header = Buffer.alloc(SQLITE_HEADER.length);
    const read = readSync(fd, header, 0, header.length, 0);
    return read > 0 && header.toString('latin1', 0, read) !== SQLITE_HEADER.slice(0, read);
  } finally {
    closeSync(fd);
  }
}

/**
 * Moves a JSON state file at `file` aside, if there is one, and returns where a
 * JSON state left by an earlier version now lies (or null). Two processes may
 * race here: the rename succeeds for one, and both then find the same file.
 */
export function setAsideLegacyState(file: string | null): string | null {
  if (file === null) return null;
  if (holdsJson(file)) {
    try {
      renameSync(file, migratedName(file));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new StorageError(`Cannot rename the JSON state file ${file} to ${migratedName(file)} for its migration: ${(error as Error).message}`, { cause: error });
      }
    }
  }
  return holdsJson(migratedName(file)) ? migratedName(file) : null;
}

/** The document in a set-aside JSON state file; refuses to guess when it is not JSON. */
export function readLegacyState(file: string): StateDocument {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new StorageError(`Cannot read the JSON state file ${file} to migrate it: ${(error as Error).message}`, { cause: error });
  }
  try {
    // A lease in an old file belonged to a process of an earlier version; it is not carried over.
    return { ...normalizeState(JSON.parse(text)), lease: null };
  } catch (error) {
    // Starting over from an empty state would re-export the whole retention window.
    throw new StorageError(`The JSON state file ${file} is not valid JSON, so it cannot be migrated; fix it, or remove it to restart from the oldest retained log.`, { cause: error });
  }
}
