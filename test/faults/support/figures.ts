/**
 * One row of figures per scenario, for the table figures-reporter.js prints.
 * Rows are written as soon as a scenario has measured them and before it
 * asserts, so a failing scenario still shows what it saw.
 */
import { randomBytes } from 'node:crypto';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Table order: the order of the promises in docs/reliability.md. */
export const RANK = {
  kill9: 1,
  receiverRestart: 2,
  storms: 3,
  concurrency: 4,
  deadline: 5,
  badResponses: 6,
  hostile: 7,
  settings: 8,
  secrets: 9,
  certificates: 10,
  memory: 11,
  logStream: 12,
  lease: 13,
} as const;

export interface Figures {
  scenario: string;
  rank: number;
  expected: number;
  delivered: number;
  missing: number;
  duplicates: number;
  /** Exporter runs: CLI invocations, or runs recorded by the service/extension. */
  runs: number;
  wallMs: number;
  notes?: string;
}

export function recordFigures(figures: Figures): void {
  const row = { ...figures, test: expect.getState().currentTestName ?? figures.scenario, recordedAt: Date.now() };
  const dir = process.env['FAULTS_FIGURES_DIR'];
  if (dir === undefined || dir === '') {
    // Run without the suite's reporter (e.g. another jest config): still show the figures.
    process.stdout.write(`fault figures: ${JSON.stringify(row)}\n`);
    return;
  }
  const file = join(dir, `${row.recordedAt}-${randomBytes(4).toString('hex')}.json`);
  // Written whole then renamed, so the reporter never reads half a row.
  writeFileSync(`${file}.tmp`, JSON.stringify(row));
  renameSync(`${file}.tmp`, file);
}

/** Measures a scenario's wall time from the moment it is created. */
export function stopwatch(): () => number {
  const started = Date.now();
  return () => Date.now() - started;
}
