/**
 * The benchmark's baseline only: how the standalone state was kept before it
 * moved into SQLite, reduced to what one change costs. Every change took a
 * lock file (written aside, hard-linked into place), read and parsed the
 * whole JSON document, wrote it whole to a temp file and renamed it over the
 * old one. Nothing in the program uses this; the `state` scenario measures it
 * next to the database stores so that "before and after" stay measurable.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { hostname } from 'node:os';
import type { StateStore } from '../../src/ports';
import { normalizeState, type StateDocument } from '../../src/storage/state';

export class JsonFileStateStore implements StateStore {
  private readonly lockFile: string;

  constructor(private readonly file: string) {
    this.lockFile = `${file}.lock`;
  }

  async read(): Promise<StateDocument> {
    try {
      return normalizeState(JSON.parse(await fs.readFile(this.file, 'utf8')));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return normalizeState(undefined);
      throw error;
    }
  }

  async update(change: (current: StateDocument) => StateDocument): Promise<StateDocument> {
    const claim = `${this.lockFile}.${process.pid}.${randomBytes(4).toString('hex')}`;
    await fs.writeFile(claim, JSON.stringify({ pid: process.pid, host: hostname() }));
    try {
      await fs.link(claim, this.lockFile); // the benchmark has one writer: the lock is always free
    } finally {
      await fs.rm(claim, { force: true });
    }
    try {
      const next = change(await this.read());
      const temp = `${this.file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
      await fs.writeFile(temp, JSON.stringify(next, null, 2) + '\n', { mode: 0o600 });
      await fs.rename(temp, this.file);
      return next;
    } finally {
      await fs.rm(this.lockFile, { force: true });
    }
  }
}
