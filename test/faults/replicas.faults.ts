/**
 * Promise: three `serve` replicas on one PostgreSQL database lose nothing
 * while the lease holder's database session is ended and Papertrail's
 * receiver restarts, some of the two at the same moment.
 *
 * Each repetition (seeded; CHAOS_REPETITIONS, default 3, README gives the
 * command for 10) drains 30,000 events (Auth0 answering in 10 ms) with three
 * replicas on a 1-second schedule, and meanwhile, at seeded points of the
 * drain: 5 terminations of the lease holder's session (pg_terminate_backend)
 * and 3 receiver restarts, two of them together with a termination (within
 * 100 ms, while pages are arriving). Per repetition: 0 missing; no two runs
 * exporting at once in the shared history (a run that overlaps a later one
 * must have failed or lost its lease, and the later one started from the
 * checkpoint it left, or further back only to ship pages in doubt first, so
 * the earlier moved nothing after); no pages left waiting to
 * be shipped again; duplicates at most three shipments per run that failed or
 * lost its lease: the one it had in flight, and the two before it when the
 * receiver went away right after confirming them (README: the last shipment
 * confirmed and the one before it within the second are in doubt, taken back
 * and shipped again). The figures print duplicates per disruption.
 */
import { Client } from 'pg';
import { PostgresStateStore } from '../../src/storage/postgres-state-store';
import type { RunRecord, StateDocument } from '../../src/storage/state';
import { checkDelivery } from '../support/delivery';
import { compareIds, createPrng } from '../support/events';
import { usePostgresServer } from '../support/postgres-server';
import type { RsyslogReceiver } from '../support/rsyslog-receiver';
import { recordFigures, RANK, stopwatch } from './support/figures';
import { until, useHarness } from './support/harness';
import { deliveryColumns, eventsOf } from './support/received';

const EVENTS = 30_000;
const BATCH_SIZE = 100;
/** PAGES_PER_SHIPMENT=1 (set below): a shipment is one page, so the bound is 100 duplicates per disruption. */
const SHIPMENT = BATCH_SIZE;
const TERMINATIONS = 5;
const RESTARTS = 3;
const COINCIDING = 2;
const REPETITIONS = Number(process.env['CHAOS_REPETITIONS'] ?? 3);
/** Seeded so a failure can be replayed: FAULTS_SEED=<n>; repetition i uses seed + i. */
const SEED = Number(process.env['FAULTS_SEED'] ?? 1717);
const START_ATTEMPTS = 3;

type Disruption = 'terminate' | 'restart' | 'both';

const h = useHarness();
const postgres = usePostgresServer();

async function readState(url: string): Promise<StateDocument> {
  const store = new PostgresStateStore({ url });
  try {
    return await store.read();
  } finally {
    await store.close();
  }
}

/** The seeded plan: where in the drain (received count) each disruption strikes, in order. */
function plan(random: () => number): { at: number; what: Disruption }[] {
  const kinds: Disruption[] = [
    ...Array<Disruption>(COINCIDING).fill('both'),
    ...Array<Disruption>(RESTARTS - COINCIDING).fill('restart'),
    ...Array<Disruption>(TERMINATIONS - COINCIDING).fill('terminate'),
  ];
  for (let i = kinds.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [kinds[i], kinds[j]] = [kinds[j] as Disruption, kinds[i] as Disruption];
  }
  // Spread over 10-85 % of the drain, at least 5 % apart, so each strikes a different run.
  const slot = 0.75 / kinds.length;
  return kinds.map((what, i) => ({ at: Math.round(EVENTS * (0.1 + i * slot + random() * (slot - 0.05))), what }));
}

describe('three serve replicas on PostgreSQL under session terminations and receiver restarts', () => {
  for (let repetition = 0; repetition < REPETITIONS; repetition++) {
    const seed = SEED + repetition;
    it(`repetition ${repetition + 1} (seed ${seed}): 0 missing, never two runs exporting at once, at most three shipments repeated per stopped run`, async () => {
      const elapsed = stopwatch();
      const random = createPrng(seed);
      const tenant = await h.tenant({ count: EVENTS, latencyMs: 10 });
      const receiver = await h.receiver();
      const url = await postgres().createDatabase();
      const env = h.env(tenant, receiver, { STATE_URL: url, SCHEDULE: '* * * * * *', BATCH_SIZE: String(BATCH_SIZE), MAX_RUN_SECONDS: '10', PAGES_PER_SHIPMENT: '1' });
      const admin = new Client({ connectionString: url });
      await admin.connect();
      h.defer(() => admin.end());
      const replicas = await Promise.all([0, 1, 2].map(() => h.serve(env)));

      /** Ends the lease holder's database session; resolves with when it did, once a holder was found. */
      const terminateHolder = async (): Promise<number> => {
        for (;;) {
          const row = (await admin.query<{ session: string | null; expires: string | null }>('SELECT lease_session AS session, lease_expires_at AS expires FROM state WHERE id = 1')).rows[0];
          if (row?.session && Number(row.expires) > Date.now()) {
            // When the termination was sent: the server acts on it at once, however long the answer takes to come back.
            const sentAt = Date.now();
            const ended = await admin.query<{ ended: boolean }>('SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity WHERE pid || \'@\' || backend_start::text = $1', [row.session]);
            if (ended.rows[0]?.ended === true) return sentAt;
          }
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      };
      const restart = async (): Promise<number> => {
        const at = Date.now();
        await restartWithRetries(receiver);
        return at;
      };

      const done: string[] = [];
      const gaps: number[] = [];
      for (const { at, what } of plan(random)) {
        await receiver.waitForCount(at, 120_000);
        if (what === 'terminate') await terminateHolder();
        else if (what === 'restart') await restart();
        else {
          const [terminatedAt, restartedAt] = await Promise.all([terminateHolder(), restart()]);
          gaps.push(Math.abs(terminatedAt - restartedAt));
        }
        done.push(`${what}@${at}`);
      }
      await until('every event to be shipped and nothing left in doubt', async () => {
        const state = await readState(url);
        return state.checkpoint === tenant.lastId() && state.reship === null;
      }, 180_000, 200);
      await Promise.all(replicas.map((r) => r.stop()));

      const state = await readState(url);
      const figures = checkDelivery(eventsOf(tenant), await receiver.messages());
      const disruptions = TERMINATIONS + RESTARTS - COINCIDING;
      const byStatus = countBy(state.runs, (r) => r.status);
      const overlapping = overlapsOf(state.runs);
      // The later run starts where the earlier one's saves ended, or further back only to ship pages in doubt first.
      const startedAfter = (a: RunRecord, b: RunRecord): boolean =>
        b.startCheckpoint !== null && a.checkpoint !== null && (compareIds(b.startCheckpoint, a.checkpoint) >= 0 || b.reshipped?.after === b.startCheckpoint);
      const unexplained = overlapping.filter(([a, b]) => a.status === 'ok' || !startedAfter(a, b));
      const stopped = state.runs.filter((r) => r.status !== 'ok').length;
      const line = `seed ${seed}: ${figures.delivered} delivered, ${figures.missing} missing, ${figures.duplicates} duplicates (${Math.round(figures.duplicates / disruptions)} per disruption); runs ${Object.entries(byStatus).map(([k, v]) => `${v} ${k}`).join(', ')}; ` +
        `${overlapping.length} overlaps, all by runs that stopped (${unexplained.length} not); take-backs ${state.runs.filter((r) => r.takeBack).map((r) => r.takeBack?.status).join('/') || 'none'}; ` +
        `terminate/restart gaps ${gaps.map((g) => `${g} ms`).join(', ')}; ${done.join(' ')}`;
      process.stdout.write(`3 replicas, ${line}\n`);
      recordFigures({
        scenario: `3 replicas on PostgreSQL: ${TERMINATIONS} session terminations, ${RESTARTS} receiver restarts (${COINCIDING} together), seed ${seed}`,
        rank: RANK.lease,
        ...deliveryColumns(figures),
        runs: state.runs.length,
        wallMs: elapsed(),
        notes: line.slice(line.indexOf(';') + 2, 400),
      });

      expect(figures).toMatchObject({ expected: EVENTS, delivered: EVENTS, missing: 0, malformed: 0 });
      expect(unexplained.map(([a, b]) => `${a.id} ${a.status} ${a.checkpoint ?? ''} / ${b.id} from ${b.startCheckpoint ?? ''}`)).toEqual([]);
      expect(gaps.every((g) => g <= 100)).toBe(true);
      expect(state.reship).toBeNull();
      // Each run that failed or lost its lease repeats at most its shipment in flight and the two in doubt (one page each here).
      expect(figures.duplicates).toBeLessThanOrEqual(stopped * 3 * SHIPMENT);
    }, 400_000);
  }
});

async function restartWithRetries(receiver: RsyslogReceiver): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await receiver.restart();
      return;
    } catch (error) {
      if (attempt >= START_ATTEMPTS) throw error;
    }
  }
}

/** Pairs of runs (earlier first) whose [startedAt, finishedAt] overlap. */
function overlapsOf(runs: readonly RunRecord[]): [RunRecord, RunRecord][] {
  const sorted = [...runs].sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt));
  const pairs: [RunRecord, RunRecord][] = [];
  for (let i = 0; i < sorted.length; i++) {
    for (let j = i + 1; j < sorted.length; j++) {
      const a = sorted[i] as RunRecord;
      const b = sorted[j] as RunRecord;
      if (Date.parse(b.startedAt) < Date.parse(a.finishedAt) && b.exported + a.exported > 0) pairs.push([a, b]);
    }
  }
  return pairs;
}

function countBy<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
}
