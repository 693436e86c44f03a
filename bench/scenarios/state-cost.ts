/**
 * Scenario `state`: what the state costs per page, as a run pays it after
 * each confirmed page: record the page's 100 shipped ids (the database
 * stores) and save the checkpoint. Measured against a state holding a full
 * run history (100 runs), for the JSON file store the program used before
 * (bench/baselines), the SQLite default and PostgreSQL (a throwaway local
 * server, as in the tests). Wall time per page, median over the pages.
 */
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import type { ShippedIds, StateStore } from '../../src/ports';
import { saveCheckpoint } from '../../src/stages/save-checkpoint';
import { PostgresStateStore } from '../../src/storage/postgres-state-store';
import { SqliteStateStore } from '../../src/storage/sqlite-state-store';
import { RUN_HISTORY_LIMIT, type RunRecord } from '../../src/storage/state';
import { startPostgres, type PostgresServer } from '../../test/support/postgres-server';
import { JsonFileStateStore } from '../baselines/json-file-state-store';
import { track } from '../lib/cleanup';
import { PAGE } from '../lib/options';
import { row, type ScenarioResult } from '../lib/report';
import { summarize } from '../lib/stats';
import { rotated, type Context } from './context';

type Variant = 'json' | 'sqlite' | 'postgres';

interface Store {
  state: StateStore;
  shipped?: ShippedIds;
  close(): Promise<void>;
}

/** A run record of realistic size, as the history holds them. */
function runRecord(i: number): RunRecord {
  return {
    id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, trigger: 'schedule', status: 'ok',
    startedAt: new Date(1_700_000_000_000 + i * 300_000).toISOString(), finishedAt: new Date(1_700_000_000_000 + i * 300_000 + 4_000).toISOString(),
    durationMs: 4_000, startCheckpoint: `9002023111400000000000000000000000000000000000${String(i).padStart(10, '0')}`,
    checkpoint: `9002023111400000000000000000000000000000000000${String(i + 1).padStart(10, '0')}`,
    fetched: 1_000, exported: 1_000, filteredOut: 0, truncated: 0, pages: 10, stoppedBy: 'caught-up', lagSeconds: 3, warnings: [],
  };
}

const logId = (n: number): string => `90020231114${String(n).padStart(45, '0')}`;

export async function stateCost(ctx: Context): Promise<ScenarioResult> {
  const pages = ctx.options.quick ? 200 : 1_000;
  let postgres: PostgresServer | undefined;
  let releasePostgres: (() => Promise<void>) | undefined;
  const open = async (variant: Variant, dir: string): Promise<Store> => {
    if (variant === 'json') {
      const state = new JsonFileStateStore(join(dir, 'state.json'));
      return { state, close: async () => undefined };
    }
    if (variant === 'sqlite') {
      const store = new SqliteStateStore({ file: join(dir, 'state.db') });
      return { state: store, shipped: store, close: () => store.close() };
    }
    if (!postgres) {
      postgres = await startPostgres();
      const server = postgres;
      releasePostgres = track('PostgreSQL server', () => server.stop());
    }
    const store = new PostgresStateStore({ url: await postgres.createDatabase() });
    return { state: store, shipped: store, close: () => store.close() };
  };

  const variants: Variant[] = ['json', 'sqlite', 'postgres'];
  const perPage: Record<Variant, number[]> = { json: [], sqlite: [], postgres: [] };
  /** The checkpoint save alone, comparable with the JSON file store's only write. */
  const checkpointOnly: Record<Variant, number[]> = { json: [], sqlite: [], postgres: [] };
  try {
    for (let r = 0; r < ctx.options.runs; r++) {
      for (const variant of rotated(variants, r)) {
        const store = await open(variant, mkdtempSync(join(ctx.root, `state-${variant}-`)));
        try {
          await store.state.update((s) => ({ ...s, runs: Array.from({ length: RUN_HISTORY_LIMIT }, (_, i) => runRecord(i)) }));
          const times: number[] = [];
          const saves: number[] = [];
          for (let p = 0; p < pages; p++) {
            const ids = Array.from({ length: PAGE }, (_, i) => logId(p * PAGE + i + 1));
            const started = process.hrtime.bigint();
            await store.shipped?.record(ids, Date.now());
            const recorded = process.hrtime.bigint();
            await saveCheckpoint(store.state, ids[PAGE - 1] as string, new Date().toISOString());
            const saved = process.hrtime.bigint();
            times.push(Number(saved - started) / 1_000);
            saves.push(Number(saved - recorded) / 1_000);
          }
          const median = summarize(times).median;
          perPage[variant].push(median);
          checkpointOnly[variant].push(summarize(saves).median);
          ctx.progress(`state cost, run ${r + 1}/${ctx.options.runs}: ${variant}: ${Math.round(median)} µs per page (median of ${pages})`);
        } finally {
          await store.close();
        }
      }
    }
  } finally {
    await releasePostgres?.();
  }

  const name = `state cost per page (${pages} pages, ${RUN_HISTORY_LIMIT} runs in the history)`;
  const rows = [
    row(name, 'before: JSON file store (checkpoint only)', 'µs/page', summarize(perPage.json)),
    row(name, 'SQLite: checkpoint only', 'µs/page', summarize(checkpointOnly.sqlite)),
    row(name, `SQLite: ${PAGE} shipped ids + checkpoint`, 'µs/page', summarize(perPage.sqlite)),
    row(name, 'PostgreSQL (local): checkpoint only', 'µs/page', summarize(checkpointOnly.postgres)),
    row(name, `PostgreSQL (local): ${PAGE} shipped ids + checkpoint`, 'µs/page', summarize(perPage.postgres)),
    row(name, 'SQLite ÷ JSON file store', '×', summarize(perPage.sqlite.map((v, i) => v / (perPage.json[i] as number)))),
  ];
  return { name: 'state', rows, details: { pages, perPage, checkpointOnly }, failures: [] };
}
