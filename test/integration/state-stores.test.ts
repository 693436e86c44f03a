/**
 * The webtask state store under concurrent writers: no update is lost,
 * because each write is conditional on the version read (etag / 409). The
 * standalone stores (SQLite, PostgreSQL) have their contract tests in
 * standalone-stores.test.ts.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StorageError } from '../../src/errors';
import type { StateStore } from '../../src/ports';
import { emptyState, type RunRecord } from '../../src/storage/state';
import { fitDocument, WebtaskStateStore, type WebtaskStorage } from '../../src/storage/webtask-state-store';

/** README, Storage: webtask storage is one JSON document of at most 500 KB, with the last 100 runs. */
const README_DOCUMENT_LIMIT_BYTES = 500 * 1000;
const README_RUNS_KEPT = 100;

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
    const big = { ...emptyState(), runs: Array.from({ length: README_RUNS_KEPT }, (_, i) => ({ id: String(i), warnings: ['x'.repeat(6_000)] }) as unknown as RunRecord) };
    const fitted = fitDocument(big);
    expect(Buffer.byteLength(JSON.stringify(fitted))).toBeLessThanOrEqual(README_DOCUMENT_LIMIT_BYTES);
    expect(fitted.runs.at(-1)?.id).toBe(String(README_RUNS_KEPT - 1));
  });

  it('reports a storage failure as a StorageError', async () => {
    const failing: WebtaskStorage = { get: (cb) => cb(new Error('backend unavailable')), set: (_d, _o, cb) => cb() };
    await expect(new WebtaskStateStore(failing).read()).rejects.toBeInstanceOf(StorageError);
  });
});

