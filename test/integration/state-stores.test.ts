/**
 * Both state stores under concurrent writers: no update is lost, because
 * each write is conditional on the version read (webtask: etag / 409; file:
 * an exclusive lock around read-modify-write).
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { StorageError } from '../../src/errors';
import type { StateStore } from '../../src/ports';
import { FileStateStore } from '../../src/storage/file-state-store';
import { emptyState, RUN_HISTORY_LIMIT, type RunRecord } from '../../src/storage/state';
import { fitDocument, MAX_DOCUMENT_BYTES, WebtaskStateStore, type WebtaskStorage } from '../../src/storage/webtask-state-store';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { createDurableStorage } = require('../support/durable-webtask-storage') as { createDurableStorage(file: string): WebtaskStorage };

/** Each update appends one marker; a lost update would lose a marker. */
async function hammer(store: StateStore, writers: number): Promise<string[]> {
  await Promise.all(
    Array.from({ length: writers }, (_, i) =>
      store.update((s) => ({ ...s, runs: [...s.runs, { id: `w${i}` } as RunRecord] })),
    ),
  );
  return (await store.read()).runs.map((r) => r.id);
}

describe('WebtaskStateStore', () => {
  it('loses no update when writers interleave: conflicts are detected by etag and retried', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'a0pt-wt-'));
    const storage = createDurableStorage(join(dir, 'storage.json'));
    const store = new WebtaskStateStore(storage);
    const ids = await hammer(store, 20);
    expect(ids.sort()).toEqual(Array.from({ length: 20 }, (_, i) => `w${i}`).sort());
    expect(JSON.parse(readFileSync(join(dir, 'storage.json'), 'utf8')).runs).toHaveLength(20);
  });

  it('keeps the document under the size limit by dropping the oldest run records', () => {
    const big = { ...emptyState(), runs: Array.from({ length: RUN_HISTORY_LIMIT }, (_, i) => ({ id: String(i), warnings: ['x'.repeat(6_000)] }) as unknown as RunRecord) };
    const fitted = fitDocument(big);
    expect(Buffer.byteLength(JSON.stringify(fitted))).toBeLessThanOrEqual(MAX_DOCUMENT_BYTES);
    expect(fitted.runs.at(-1)?.id).toBe(String(RUN_HISTORY_LIMIT - 1));
  });

  it('reports a storage failure as a StorageError', async () => {
    const failing: WebtaskStorage = { get: (cb) => cb(new Error('backend unavailable')), set: (_d, _o, cb) => cb() };
    await expect(new WebtaskStateStore(failing).read()).rejects.toBeInstanceOf(StorageError);
  });
});

describe('FileStateStore', () => {
  it('loses no update when writers in one process interleave', async () => {
    const store = new FileStateStore(join(mkdtempSync(join(tmpdir(), 'a0pt-fs-')), 'nested', 'state.json'));
    const ids = await hammer(store, 30);
    expect(ids).toHaveLength(30);
  });

  it('loses no update when several processes write at once', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'a0pt-fs-')), 'state.json');
    const module = join(__dirname, '..', '..', 'dist', 'storage', 'file-state-store.js');
    const worker = `
      const { FileStateStore } = require(${JSON.stringify(module)});
      const store = new FileStateStore(${JSON.stringify(file)});
      (async () => { for (let i = 0; i < 10; i++) await store.update((s) => ({ ...s, runs: [...s.runs, { id: process.pid + '-' + i }] })); })();`;
    // Started together, so their updates interleave.
    const children = Array.from({ length: 4 }, () => spawn(process.execPath, ['-e', worker], { stdio: 'ignore' }));
    const codes = await Promise.all(children.map(async (c) => (await once(c, 'exit'))[0] as number));
    expect(codes).toEqual([0, 0, 0, 0]);
    const runs = (JSON.parse(readFileSync(file, 'utf8')) as { runs: unknown[] }).runs;
    expect(runs).toHaveLength(40);
  });

  it('breaks a lock left by a process that no longer exists', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'a0pt-fs-')), 'state.json');
    const dead = Number(execFileSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' }));
    writeFileSync(`${file}.lock`, JSON.stringify({ pid: dead, host: hostname() }));
    const store = new FileStateStore(file);
    await store.update((s) => ({ ...s, checkpoint: '900' }));
    expect((await store.read()).checkpoint).toBe('900');
  });

  it('refuses to guess when the state file is corrupt', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'a0pt-fs-')), 'state.json');
    writeFileSync(file, '{"checkpoint": "90');
    await expect(new FileStateStore(file).read()).rejects.toThrow(/not valid JSON/);
  });

  it('reads a state document of the original extension, keeping its checkpoint', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'a0pt-fs-')), 'state.json');
    writeFileSync(file, JSON.stringify({ checkpointId: '90020200101000000000000000000000000000000000000000000042', logs: [] }));
    expect((await new FileStateStore(file).read()).checkpoint).toBe('90020200101000000000000000000000000000000000000000000042');
  });
});

describe('FileStateStore after a kill during locking', () => {
  it('is not blocked by an empty lock file that a kill left behind', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'a0pt-fs-')), 'state.json');
    writeFileSync(`${file}.lock`, '');
    const old = new Date(Date.now() - 60_000);
    utimesSync(`${file}.lock`, old, old);
    const store = new FileStateStore(file);
    await store.update((s) => ({ ...s, checkpoint: '901' }));
    expect((await store.read()).checkpoint).toBe('901');
  });
});

describe('FileStateStore leftovers', () => {
  it('removes temp and claim files that processes killed mid-write left beside the state file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'a0pt-fs-'));
    const file = join(dir, 'state.json');
    const dead = Number(execFileSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' }));
    writeFileSync(`${file}.${dead}.0123abcd.tmp`, '{}');
    writeFileSync(`${file}.lock.${dead}.0123abcd`, '{}');
    writeFileSync(join(dir, 'unrelated.txt'), 'keep');
    await new FileStateStore(file).update((s) => s);
    expect(readdirSync(dir).sort()).toEqual(['state.json', 'unrelated.txt']);
  });
});
