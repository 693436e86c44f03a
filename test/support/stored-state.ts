/**
 * Reads the exporter's stored state from outside, while it may be running:
 * an SQLite state database (read in one read transaction, so a read sees one
 * committed version) or a JSON document such as the webtask host's storage
 * file (rewritten in place, so a read may see it half-written: such reads
 * give undefined).
 */
import Database from 'better-sqlite3';
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { normalizeState, type StateDocument } from '../../src/storage/state';
import { rowToDocument, STATE_COLUMNS, type StateRow } from '../../src/storage/state-rows';
import type { RunRecord } from '../../src/storage/state';

function isSqlite(file: string): boolean | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const header = Buffer.alloc(16);
    return readSync(fd, header, 0, 16, 0) === 16 && header.toString('latin1') === 'SQLite format 3\u0000';
  } finally {
    closeSync(fd);
  }
}

/** The state as stored, or undefined when there is none (yet) or it is mid-write. */
export function tryReadStoredState(file: string): StateDocument | undefined {
  const sqlite = isSqlite(file);
  if (sqlite === undefined) return undefined;
  if (sqlite) {
    let db: Database.Database | undefined;
    try {
      db = new Database(file, { readonly: true, fileMustExist: true, timeout: 5_000 });
      const read = db.transaction(() => {
        const row = db?.prepare(`SELECT ${STATE_COLUMNS.join(', ')} FROM state WHERE id = 1`).get() as StateRow | undefined;
        const runs = (db?.prepare('SELECT record FROM runs ORDER BY seq').pluck().all() as string[]).map((r) => JSON.parse(r) as RunRecord);
        return row === undefined ? undefined : rowToDocument(row, runs);
      });
      return read();
    } catch {
      // Created but its tables not yet: nothing stored yet.
      return undefined;
    } finally {
      db?.close();
    }
  }
  try {
    return normalizeState(JSON.parse(readFileSync(file, 'utf8')));
  } catch {
    return undefined;
  }
}

export function readStoredState(file: string): StateDocument {
  const state = tryReadStoredState(file);
  if (state === undefined) throw new Error(`no readable state in ${file}`);
  return state;
}

/** The shipped ids recorded in an SQLite state database. */
export function readShippedIds(file: string): Map<string, number> {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare('SELECT log_id, shipped_at FROM shipped_ids').all() as { log_id: string; shipped_at: number }[];
    return new Map(rows.map((r) => [r.log_id, r.shipped_at]));
  } finally {
    db.close();
  }
}
