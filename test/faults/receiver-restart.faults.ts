/**
 * Promise: Papertrail going away mid-drain loses nothing. A page counts as
 * shipped only when the receiver has closed the connection after reading it,
 * so a page cut off by a restart is not checkpointed and the next run ships it.
 *
 * `serve` drains a backlog on a 1-second schedule while the real rsyslogd is
 * restarted three times at points spread over the drain: twice gracefully
 * (SIGTERM) and once by crashing it (SIGKILL, so whatever sat in its socket
 * buffers is lost). A build that saves the checkpoint before the page is
 * confirmed loses the page each restart cuts off. It ships to a token
 * destination, so the token element is checked on every frame as well.
 */
import { checkDelivery } from '../support/delivery';
import type { CliResult } from '../support/cli';
import type { RsyslogReceiver } from '../support/rsyslog-receiver';
import { recordFigures, RANK, stopwatch } from './support/figures';
import { until, useHarness } from './support/harness';
import { deliveryColumns, eventsOf } from './support/received';
import { readState, sampleCheckpoints } from './support/state';
import { startClosingReceiver } from './support/closing-receiver';
import { startLossyReceiver } from './support/lossy-receiver';

/** README's settings table: PAGES_PER_SHIPMENT defaults to 10 (a crash re-ships at most one shipment of up to 10 pages). */
const DEFAULT_PAGES_PER_SHIPMENT = 10;

const BACKLOG = 20_000;
const START_ATTEMPTS = 3;
/** Enough for ten pages even if every run ships only one. */
const MAX_RUNS_IDLE_CLOSE = 15;
const BATCH_SIZE = 100;
/** A Papertrail ingestion token: every frame must carry it, restarts or not. */
const TOKEN = '480213-RESTARTTOKEN_plmoknijbuhv';
const h = useHarness();

describe('Papertrail receiver going away during a drain', () => {
  it('delivers every event when the receiver restarts 3 times while serve drains a backlog on a 1-second schedule', async () => {
    const elapsed = stopwatch();
    // Latency on every Auth0 answer stretches the drain over several seconds, so each restart lands mid-run.
    const tenant = await h.tenant({ count: BACKLOG, latencyMs: 10 });
    const receiver = await h.receiver();
    const env = h.env(tenant, receiver, { SCHEDULE: '* * * * * *', BATCH_SIZE: String(BATCH_SIZE), PAPERTRAIL_TOKEN: TOKEN });
    const checkpoints = sampleCheckpoints(env.STORAGE_FILE);
    const service = await h.serve(env);

    const restarts: string[] = [];
    const hiccups: string[] = [];
    for (const [at, how] of [[0.2, 'SIGTERM'], [0.45, 'SIGKILL'], [0.7, 'SIGTERM']] as const) {
      await receiver.waitForCount(Math.round(BACKLOG * at), 60_000);
      if (how === 'SIGKILL') await receiver.kill();
      await restartWithRetries(receiver, hiccups);
      restarts.push(`${how} at ${(await receiver.messages()).length}`);
    }
    await until('the service to ship the last event', () => readState(env.STORAGE_FILE).checkpoint === tenant.lastId(), 120_000, 100);
    const stopped = await service.stop();
    const history = checkpoints.stop();

    const state = readState(env.STORAGE_FILE);
    const failedRuns = state.runs.filter((r) => r.status === 'failed');
    const figures = checkDelivery(eventsOf(tenant), await receiver.messages(), { token: TOKEN });
    recordFigures({
      scenario: 'receiver restarted 3 times during a serve drain, token destination',
      rank: RANK.receiverRestart,
      ...deliveryColumns(figures),
      runs: state.runs.length,
      wallMs: elapsed(),
      // A checkpoint taken back (a page the exporter chose to ship again) is allowed here; it is counted, not failed.
      notes: `restarts: ${restarts.join(', ')}; ${failedRuns.length} runs failed and were resumed, checkpoint taken back ${history.regressions.length} times` +
        (hiccups.length > 0 ? `; rsyslogd needed ${hiccups.length} extra start attempts` : ''),
    });

    expect(figures).toMatchObject({ expected: BACKLOG, delivered: BACKLOG, missing: 0, outOfOrder: 0, malformed: 0 });
    // Every frame received, copies included, carries the token element in its raw STRUCTURED-DATA.
    expect(figures.expectedStructuredData).toBe((await receiver.messages()).length);
    // At least once: a failed run repeats at most the shipment the receiver cut off and the two it confirmed
    // just before going away (README, Delivery), each PAGES_PER_SHIPMENT (the default) × BATCH_SIZE.
    expect(figures.duplicates).toBeLessThanOrEqual(failedRuns.length * 3 * BATCH_SIZE * DEFAULT_PAGES_PER_SHIPMENT);
    // The restarts really cut runs off (otherwise this scenario tested nothing).
    expect(failedRuns.length).toBeGreaterThanOrEqual(1);
    expect(failedRuns.every((r) => r.error?.name === 'SinkError')).toBe(true);
    expect(stopped.code).toBe(0);
    expect(state.lease).toBeNull();
  }, 180_000);

  it('delivers every event when the receiver drops idle connections, so the connection opened ahead for the next page is closed before it is used', async () => {
    // When rsyslogd stops, or a load balancer's idle timeout strikes, the connection the exporter
    // opened ahead for its next page is closed under it. Here every connection left idle for
    // 50 ms is closed, and Auth0 takes 150 ms per answer, so every one opened ahead is.
    const elapsed = stopwatch();
    const tenant = await h.tenant({ count: 1_000, latencyMs: 150 });
    const closing = await startClosingReceiver(h.pki.server, 50);
    h.defer(() => closing.stop());
    const env = h.env(tenant, closing);
    // A run may fail when it finds its connection closed; the promise is that the next one resumes with nothing lost.
    const runs: CliResult[] = [];
    while (runs.length < MAX_RUNS_IDLE_CLOSE && runs.at(-1)?.report?.['stoppedBy'] !== 'caught-up') runs.push(await h.run(env));
    const figures = checkDelivery(eventsOf(tenant), closing.messages());
    const failed = runs.filter((r) => r.code !== 0).length;
    recordFigures({
      scenario: 'receiver closes idle connections (each one opened ahead)',
      rank: RANK.receiverRestart,
      ...deliveryColumns(figures),
      runs: runs.length,
      wallMs: elapsed(),
      notes: `${failed} runs failed and were resumed; ${closing.connections()} connections, ${closing.idleClosed()} closed idle, ` +
        `${closing.droppedBytes().toLocaleString('en-US')} bytes written into closed ones`,
    });

    // The premise: connections opened ahead really were closed under the exporter.
    expect(closing.idleClosed()).toBeGreaterThan(0);
    expect(runs.at(-1)?.report).toMatchObject({ status: 'ok', stoppedBy: 'caught-up' });
    // Nothing lost, and the export gets to the end: pages shipped again to be safe are counted in
    // the figures, not failed, since how often to do so is the exporter's trade-off to make.
    expect(figures).toMatchObject({ expected: 1_000, delivered: 1_000, missing: 0, outOfOrder: 0, malformed: 0 });
  }, 60_000);
});

/** How the lossy receiver's shutdown is spread after the page it drops: [closes the connection opened ahead after, refuses new ones for]. */
const SHUTDOWNS: ReadonlyArray<readonly [number, number]> = [[0, 300], [30, 300], [100, 400], [300, 600], [300, 0]];

describe('Papertrail receiver losing a page it has read', () => {
  it.each(SHUTDOWNS)(
    'a receiver that confirms a page, drops it and closes the rest %d ms later (down for %d ms): the page is reported in doubt and shipped again, or the loss is counted',
    async (shutdownMs, downMs) => {
      const elapsed = stopwatch();
      const tenant = await h.tenant({ count: 1_000, latencyMs: 20 });
      const lossy = await startLossyReceiver(h.pki.server, { losePage: 3, shutdownMs, downMs });
      h.defer(() => lossy.stop());
      // One page per shipment, so that the receiver's third shipment is the third page, and the bounds below are in pages.
      const env = h.env(tenant, lossy, { BATCH_SIZE: String(BATCH_SIZE), PAGES_PER_SHIPMENT: '1' });
      const runs: CliResult[] = [];
      while (runs.length < 6 && runs.at(-1)?.report?.['stoppedBy'] !== 'caught-up') runs.push(await h.run(env));
      const figures = checkDelivery(eventsOf(tenant), lossy.messages());
      const codes = runs.map((r) => (r.report?.['error'] as { code?: string } | undefined)?.code ?? r.report?.['status']);
      const gone = codes.filter((c) => c === 'SINK_RECEIVER_GONE').length;
      recordFigures({
        scenario: `receiver drops a page it read; rest closed ${shutdownMs} ms later, down ${downMs} ms`,
        rank: RANK.receiverRestart,
        ...deliveryColumns(figures),
        runs: runs.length,
        wallMs: elapsed(),
        notes: `runs: ${codes.join(', ')}; ${lossy.dropped().length} lines dropped, ${figures.missing} lost; ${lossy.refused()} connections refused while down`,
      });
      // The premise: a page really was read and dropped.
      expect(lossy.dropped()).toHaveLength(BATCH_SIZE);
      expect(runs.at(-1)?.report).toMatchObject({ status: 'ok', stoppedBy: 'caught-up' });
      expect(figures).toMatchObject({ expected: 1_000, outOfOrder: 0, malformed: 0 });
      if (downMs > 0) {
        // The receiver was gone when the next page came: SINK_RECEIVER_GONE, the page taken back, nothing lost.
        expect(gone).toBeGreaterThanOrEqual(1);
        expect(figures).toMatchObject({ delivered: 1_000, missing: 0 });
      } else {
        // Back at once, its shutdown too slow to be told from an idle timeout, and nothing failed: syslog
        // cannot tell, and the README states this limit with the figure measured here: the page it
        // dropped, and the page in flight if the shutdown cut that one after it was written whole.
        expect(figures.missing).toBeLessThanOrEqual(2 * BATCH_SIZE);
      }
    },
    60_000,
  );
});

/**
 * rsyslogd's own start-up is the one thing here that is not under test: on a
 * loaded machine the harness occasionally refuses a start (it treats any
 * error line rsyslogd logs while starting as fatal, and kills it). Such a
 * start is retried, and reported in the figures, rather than failing the
 * scenario for a reason that is not the exporter's.
 */
async function restartWithRetries(receiver: RsyslogReceiver, hiccups: string[]): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await receiver.restart();
      return;
    } catch (error) {
      if (attempt >= START_ATTEMPTS) throw error;
      hiccups.push(String(error).slice(0, 300));
      process.stderr.write(`receiver restart attempt ${attempt} failed, retrying: ${String(error).slice(0, 2000)}\n`);
    }
  }
}
