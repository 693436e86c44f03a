/**
 * StateStore over a local JSON file, for the CLI and the service.
 *
 * Writes are atomic (temp file + rename): a crash leaves the old document or
 * the new one, never half of either. Conflict detection equivalent to
 * webtask's etag: every read-modify-write happens under an exclusive lock file
 * (O_EXCL), so two processes never interleave. A lock left by a process that
 * no longer exists on this host is removed at once, so `kill -9` never
 * blocks the next run.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname } from 'node:path';
import { ShipperError, StorageError } from '../errors';
import type { StateStore } from '../ports';
import { normalizeState, type Lease, type StateDocument } from './state';

const LOCK_WAIT_MS = 10_000;
const STALE_UNREADABLE_LOCK_MS = 2_000;

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A holder recorded as a process on this host that no longer exists. */
function isGoneFromThisHost(holder: { pid?: unknown; host?: unknown }): boolean {
  return holder.host === hostname() && typeof holder.pid === 'number' && !isProcessAlive(holder.pid);
}

/**
 * How runs sharing a file store mark their lease, and when one is void: a run
 * killed with `kill -9` on this host never blocks the next, whatever its expiry.
 */
export function fileLeaseOwnership(): { holder: Pick<Lease, 'pid' | 'host'>; isStale: (lease: Lease) => boolean } {
  return { holder: { pid: process.pid, host: hostname() }, isStale: isGoneFromThisHost };
}

export class FileStateStore implements StateStore {
  private readonly lockFile: string;
  private directoryReady = false;

  constructor(private readonly file: string) {
    this.lockFile = `${file}.lock`;
  }

  async read(): Promise<StateDocument> {
    let text: string;
    try {
      text = await fs.readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return normalizeState(undefined);
      throw new StorageError(`Cannot read the state file ${this.file}: ${(error as Error).message}`, { cause: error });
    }
    try {
      return normalizeState(JSON.parse(text));
    } catch (error) {
      // Refuse to guess: starting over from an empty state would re-export the whole retention window.
      throw new StorageError(`The state file ${this.file} is not valid JSON; fix or remove it (removing it restarts from the oldest retained log).`, { cause: error });
    }
  }

  async update(change: (current: StateDocument) => StateDocument): Promise<StateDocument> {
    if (!this.directoryReady) {
      await fs.mkdir(dirname(this.file), { recursive: true });
      await this.removeLeftovers();
      this.directoryReady = true;
    }
    await this.lock();
    try {
      const next = change(await this.read());
      const temp = `${this.file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
      await fs.writeFile(temp, JSON.stringify(next, null, 2) + '\n', { mode: 0o600 });
      await fs.rename(temp, this.file);
      return next;
    } catch (error) {
      // Errors of our own (a refused lease, a failed read) keep their meaning.
      if (error instanceof ShipperError) throw error;
      throw new StorageError(`Cannot write the state file ${this.file}: ${(error as Error).message}`, { cause: error });
    } finally {
      await fs.rm(this.lockFile, { force: true });
    }
  }

  private async lock(): Promise<void> {
    const started = Date.now();
    // The lock appears with its owner already in it (written aside, then hard-linked
    // into place, which fails if the lock exists): a kill can never leave it empty.
    const claim = `${this.lockFile}.${process.pid}.${randomBytes(4).toString('hex')}`;
    await fs.writeFile(claim, JSON.stringify({ pid: process.pid, host: hostname() }));
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          await fs.link(claim, this.lockFile);
          return;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
            throw new StorageError(`Cannot lock the state file ${this.file}: ${(error as Error).message}`, { cause: error });
          }
        }
        if (await this.lockIsStale()) {
          await fs.rm(this.lockFile, { force: true });
          continue;
        }
        if (Date.now() - started > LOCK_WAIT_MS) {
          throw new StorageError(`The state file ${this.file} stayed locked for ${LOCK_WAIT_MS / 1000} s (lock file ${this.lockFile}).`);
        }
        await new Promise((resolve) => setTimeout(resolve, Math.min(50, 2 + attempt * 2)));
      }
    } finally {
      await fs.rm(claim, { force: true });
    }
  }

  /** Temp and claim files of processes killed mid-write (their names carry the pid). */
  private async removeLeftovers(): Promise<void> {
    const base = basename(this.file);
    const leftover = new RegExp(`^${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?:\\.lock)?\\.(\\d+)\\.[0-9a-f]{8}(?:\\.tmp)?$`);
    for (const name of await fs.readdir(dirname(this.file))) {
      const pid = Number(leftover.exec(name)?.[1]);
      if (Number.isInteger(pid) && pid !== process.pid && !isProcessAlive(pid)) await fs.rm(`${dirname(this.file)}/${name}`, { force: true });
    }
  }

  private async lockIsStale(): Promise<boolean> {
    try {
      const holder = JSON.parse(await fs.readFile(this.lockFile, 'utf8')) as { pid?: unknown; host?: unknown };
      return isGoneFromThisHost(holder);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false; // released meanwhile: try again
      // Unreadable, so not made by this version (which links complete files into place);
      // a lock held for a read-modify-write lasts milliseconds, so an old one is abandoned.
      try {
        return Date.now() - (await fs.stat(this.lockFile)).mtimeMs > STALE_UNREADABLE_LOCK_MS;
      } catch {
        return false;
      }
    }
  }
}
