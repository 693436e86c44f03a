/**
 * Promise: the exporter can be SIGKILLed at any moment and restarted without
 * losing an event; each kill repeats at most the one shipment that was in
 * flight: up to PAGES_PER_SHIPMENT pages confirmed together, 10 with the
 * default this test runs with.
 *
 * The CLI drains a 50,000-event backlog and is killed again and again at
 * seeded random moments. Most kills land while pages are shipping (a seeded
 * delay after the run's first message arrives); one in four lands at a
 * seeded moment after spawn, which also covers start-up, taking the lease and
 * state writes. After every kill the stored checkpoint is compared with what
 * the receiver already holds: more than one shipment beyond it would mean the
 * checkpoint lags further than one shipment, and anything missing below it means
 * it ran ahead of delivery (what a build that saves the checkpoint before
 * shipping does).
 */
import Database from 'better-sqlite3';
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname } from 'node:path';
import { createPrng } from '../support/events';
import { checkDelivery } from '../support/delivery';
import { recordFigures, RANK, stopwatch } from './support/figures';
import { sleep, until, useHarness } from './support/harness';
import { countBeyond, countLostUpTo, deliveryColumns, eventsOf } from './support/received';
import { readState, sampleCheckpoints, tryReadState } from './support/state';

/** README's settings table: PAGES_PER_SHIPMENT defaults to 10 (a crash re-ships at most one shipment of up to 10 pages). */
const DEFAULT_PAGES_PER_SHIPMENT = 10;

const BACKLOG = 50_000;
const BATCH_SIZE = 100;
/** The most a kill may leave beyond the checkpoint: one shipment, PAGES_PER_SHIPMENT (not set, so the default) × BATCH_SIZE. */
const SHIPMENT = BATCH_SIZE * DEFAULT_PAGES_PER_SHIPMENT;
/**
 * Kills that must land mid-drain. The promise asks for at least 10; 20 make
 * it near certain that a build which saves the checkpoint before shipping is
 * caught (about a third of its kills lose a page, so 0.7^20 < 0.1% to miss).
 */
const MID_DRAIN_KILLS = 20;
/** Seeded so a failure can be replayed: FAULTS_SEED=<n> npm run test:faults. */
const SEED = Number(process.env['FAULTS_SEED'] ?? 90210);

interface Kill {
  early: boolean;
  delayMs: number;
  /** Messages the receiver got from this run before it died. */
  shipped: number;
  checkpoint: string | null;
  /** Messages for events after the stored checkpoint: what the next run ships again. */
  beyondCheckpoint: number;
  /** Events at or before the stored checkpoint that the receiver does not have: lost for good. */
  lostBelowCheckpoint: number;
}

const h = useHarness();

describe('kill -9 of the exporter CLI', () => {
  it('loses no event over 10+ SIGKILLs at random moments during a 50,000-event backlog, and repeats at most one batch per kill', async () => {
    const elapsed = stopwatch();
    const random = createPrng(SEED);
    const tenant = await h.tenant({ count: BACKLOG });
    const receiver = await h.receiver();
    const env = h.env(tenant, receiver, { BATCH_SIZE: String(BATCH_SIZE) });
    const checkpoints = sampleCheckpoints(env.STORAGE_FILE);
    const ids = Array.from({ length: BACKLOG }, (_, i) => tenant.idAt(i));

    const kills: Kill[] = [];
    let runs = 0;
    let caughtUpBeforeKill = false;
    const selfExits: string[] = [];
    const midDrain = (): number => kills.filter((k) => k.shipped > 0).length;
    while (midDrain() < MID_DRAIN_KILLS && kills.length < 3 * MID_DRAIN_KILLS) {
      const before = (await receiver.messages()).length;
      const run = h.cli(['run'], env);
      runs++;
      let exited = false;
      void run.done.then(() => (exited = true));
      const early = random() < 0.25;
      const delayMs = Math.round(random() * (early ? 400 : 150));
      if (!early) {
        await until('the run to ship its first page (or exit)', async () => exited || (await receiver.messages()).length > before, 30_000, 5);
      }
      await sleep(delayMs);
      if (!exited) run.child.kill('SIGKILL');
      const result = await run.done;
      if (result.signal !== 'SIGKILL') {
        // It caught up before the kill: the backlog is gone, no more kills are possible.
        if (result.code === 0 && result.report?.['stoppedBy'] === 'caught-up') caughtUpBeforeKill = true;
        // A run that fails after a kill is the promise broken (the restart did not resume); stop killing.
        else selfExits.push(`run ${runs} exited with ${String(result.code)} before its kill: ${errorOf(result.report)}`);
        break;
      }
      await settled(async () => (await receiver.messages()).length);
      const checkpoint = tryReadState(env.STORAGE_FILE)?.checkpoint ?? null;
      const received = await receiver.messages();
      kills.push({
        early,
        delayMs,
        shipped: received.length - before,
        checkpoint,
        beyondCheckpoint: countBeyond(received, checkpoint),
        lostBelowCheckpoint: countLostUpTo(ids, checkpoint, received),
      });
    }

    // The final run finishes the backlog and must start exactly where the last kill left the checkpoint.
    const lastCheckpoint = tryReadState(env.STORAGE_FILE)?.checkpoint ?? null;
    const final = await h.run(env);
    runs++;
    const history = checkpoints.stop();
    // What kills leave behind next to the state database, other than its own journal files.
    const own = new Set([basename(env.STORAGE_FILE), `${basename(env.STORAGE_FILE)}-wal`, `${basename(env.STORAGE_FILE)}-shm`, 'ca.pem']);
    const litter = readdirSync(dirname(env.STORAGE_FILE)).filter((f) => !own.has(f));
    const figures = checkDelivery(eventsOf(tenant), await receiver.messages());
    const maxBeyond = Math.max(0, ...kills.map((k) => k.beyondCheckpoint));
    recordFigures({
      scenario: 'kill -9 of the CLI during a 50,000-event backlog',
      rank: RANK.kill9,
      ...deliveryColumns(figures),
      runs,
      wallMs: elapsed(),
      notes: `${kills.length} kills (${midDrain()} mid-drain), ≤ ${maxBeyond} re-shipped per kill, seed ${SEED}` +
        (history.regressions.length > 0 ? `, checkpoint taken back ${history.regressions.length} times` : '') +
        (caughtUpBeforeKill ? ', backlog ran out before the last kill' : '') +
        (litter.length > 0 ? `, ${litter.length} files left beside the state file (${litterKinds(litter)})` : '') +
        (selfExits.length > 0 ? `; ${selfExits.join('; ').slice(0, 160)}` : '') +
        (figures.malformed > 0 ? `, ${figures.malformed} malformed` : ''),
    });

    expect(selfExits).toEqual([]);
    expect(midDrain()).toBeGreaterThanOrEqual(10);
    expect(final.code).toBe(0);
    expect(final.report).toMatchObject({ status: 'ok', stoppedBy: 'caught-up', startCheckpoint: lastCheckpoint ?? expect.any(String) });
    expect(figures).toMatchObject({ expected: BACKLOG, delivered: BACKLOG, missing: 0, outOfOrder: 0, malformed: 0 });
    // Per kill: everything up to the checkpoint had arrived, and at most the shipment in flight lay
    // beyond it, so at most one shipment is shipped twice.
    expect(kills.filter((k) => k.lostBelowCheckpoint > 0)).toEqual([]);
    for (const kill of kills) expect(kill.beyondCheckpoint).toBeLessThanOrEqual(SHIPMENT);
    expect(figures.duplicates).toBeLessThanOrEqual(kills.length * SHIPMENT);
    const state = readState(env.STORAGE_FILE);
    expect(state.checkpoint).toBe(tenant.lastId());
    expect(state.lease).toBeNull();
  }, 300_000);

  it('resumes at once after a SIGKILL that left the lease held (its holder gone, its expiry an hour away)', async () => {
    // The random kills above mostly land while a run holds the lease. This writes exactly the lease
    // such a kill leaves, so that the restart is tested every time and not by luck.
    const elapsed = stopwatch();
    const tenant = await h.tenant({ count: 500 });
    const receiver = await h.receiver();
    const env = h.env(tenant, receiver, { BATCH_SIZE: String(BATCH_SIZE) });
    const first = await h.run(env);
    expect(first.code).toBe(0);
    tenant.append(500);
    const dead = Number(execFileSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' }));
    const db = new Database(env.STORAGE_FILE);
    db.prepare('UPDATE state SET lease_owner = ?, lease_expires_at = ?, lease_pid = ?, lease_host = ? WHERE id = 1').run('killed-run', Date.now() + 3_600_000, dead, hostname());
    db.close();

    const next = await h.run(env);
    const figures = checkDelivery(eventsOf(tenant), await receiver.messages());
    recordFigures({
      scenario: 'kill -9 that left the lease held, then a restart',
      rank: RANK.kill9,
      ...deliveryColumns(figures),
      runs: 2,
      wallMs: elapsed(),
      notes: next.code === 0 ? 'restart resumed' : `restart failed: ${errorOf(next.report)}`,
    });
    expect(next.report).toMatchObject({ status: 'ok', exported: 500 });
    expect(next.code).toBe(0);
    expect(figures).toMatchObject({ delivered: 1_000, missing: 0, duplicates: 0 });
  }, 60_000);
});

/** "state.json.123.9f3a01bc.tmp" and the like, as patterns, without repeats. */
function litterKinds(files: readonly string[]): string {
  const kinds = files.map((f) => f.replace(/\.\d+\./, '.<pid>.').replace(/\.[0-9a-f]{8}(?=\.|$)/, '.<hex>'));
  return [...new Set(kinds)].join(', ');
}

function errorOf(report: Record<string, unknown> | undefined): string {
  const error = report?.['error'] as { code?: string; message?: string } | undefined;
  return error === undefined ? `status ${String(report?.['status'])}` : `${String(error.code)}: ${String(error.message)}`;
}

/** Waits until `measure` stops changing: rsyslogd may still be writing what a dead process had already sent. */
async function settled(measure: () => Promise<number>, quietMs = 150): Promise<void> {
  let last = await measure();
  let stableSince = Date.now();
  while (Date.now() - stableSince < quietMs) {
    await sleep(25);
    const now = await measure();
    if (now !== last) {
      last = now;
      stableSince = Date.now();
    }
  }
}
