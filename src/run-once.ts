/**
 * One export run, top-down: start → fetch ahead → filter/format → group →
 * ship → save, page by page, until Auth0 has nothing newer or the run's time
 * is up. Fetching never waits for the receiver: the next page is fetched while
 * the previous group ships.
 *
 * At-least-once: the checkpoint moves past a group only after the sink has
 * confirmed every line of it, so a failure or crash anywhere re-ships at most
 * the group in flight and never skips a page.
 *
 * Each resource has one owner that lets go of it on every path: the lease's
 * fenced views (RunLease), the held ids (RunHolds), the request in flight
 * (FetchAhead), the sink, the pending record and the range in doubt
 * (Shipments). Every failure goes through RunFailure.
 */
import type { Config } from './config';
import { noMetrics, type Auth0LogsClient, type Clock, type LogSink, type Logger, type Metrics, type Notifier, type ShippedIds, type StateStore } from './ports';
import { FetchAhead } from './stages/fetch-ahead';
import type { FetchedPage } from './stages/fetch-logs';
import { groupLimitsFor, type GroupLimits } from './stages/group-pages';
import { preparePage } from './stages/prepare-page';
import { RunFailure } from './stages/run-failure';
import { finishReport, newReport, type RunReport } from './stages/run-report';
import { Shipments } from './stages/shipments';
import { startRun } from './stages/start-run';
import { pruneShippedIds } from './storage/retention';
import { RunHolds } from './storage/holding-shipped-ids';
import type { RunLease } from './storage/run-lease';

export type { RunReport, StopReason } from './stages/run-report';

export interface RunDeps {
  store: StateStore;
  auth0: Auth0LogsClient;
  sink: LogSink;
  clock: Clock;
  log: Logger;
  /** The record of shipped ids shared with the log stream: pages skip what it shipped, and are recorded in it. */
  shipped?: ShippedIds;
  /** Where alerts go; none configured, none decided or sent. */
  notifier?: Notifier | undefined;
  metrics?: Metrics | undefined;
  /**
   * The lease this run holds (runExport takes it): every write of the run is
   * fenced by it, and once it is lost the run stops fetching and shipping at once.
   */
  lease?: RunLease | undefined;
}

const FINISH_MARGIN_MS = 1_000;

/**
 * `signal` asks the run to stop early (service shutdown): the pages already
 * fetched are shipped and saved, no new page is started.
 */
export async function runOnce(deps: RunDeps, config: Config, signal?: AbortSignal, limits: GroupLimits = groupLimitsFor(config)): Promise<RunReport> {
  const { clock, log, lease } = deps;
  const started = clock.now();
  // Requests and waits stop this much before the budget, leaving time to save and report within it.
  const deadline = started + config.maxRunMs - Math.min(FINISH_MARGIN_MS, config.maxRunMs / 20);
  const report = newReport(config, started, deps.shipped !== undefined);
  // Every write this run makes goes through these views: refused once another run took the lease.
  const store = lease ? lease.store(deps.store) : deps.store;
  const holds = deps.shipped ? new RunHolds(lease ? lease.shipped(deps.shipped) : deps.shipped) : undefined;
  const fetches = new FetchAhead(deps.auth0, { take: config.batchSize, deadline, clock }, lease);
  const shipments = new Shipments({ sink: deps.sink, store, shipped: holds, lease, clock, log, metrics: deps.metrics ?? noMetrics }, report);
  const failure = new RunFailure({ store: deps.store, lease, clock, until: deadline + FINISH_MARGIN_MS, inDoubt: (count) => shipments.inDoubt(count) }, report);

  try {
    const from = await startRun(store, holds, config, started, report, shipments);
    log.info(`run started: from ${from} (${report.startSource}), batch ${config.batchSize}, budget ${Math.round(config.maxRunMs / 1000)} s`);
    fetches.request(from);
    await exportPages({ fetches, shipments, holds, config, limits, report, clock, lease, signal });
  } catch (error) {
    await failure.stopOrFail(error);
  }
  fetches.abort();
  // A group already confirmed when a fetch failed still has its checkpoint saved; one that fails fails the run.
  await shipments.settled().catch((error: unknown) => failure.shipmentFailed(error));
  if (holds && report.status === 'ok') await forgetOldShippedIds(holds, clock.now(), report);
  shipments.dropUnshipped();
  // The last shipment is certain unless the sink put it in doubt; then it stays unrecorded, to be shipped again.
  await shipments.close(() => report.error?.code !== 'SINK_RECEIVER_GONE' && report.takeBack === undefined).catch((error: unknown) => failure.closeFailed(error));
  shipments.abandon();
  // Every id still held (a shipment that failed, pages never shipped, a page left in doubt) is given back,
  // so that the next run and log-stream deliveries never wait for them.
  holds?.releaseAll();
  return finishReport(report, started, clock.now(), shipments.newestDate, log);
}

interface ExportLoop {
  fetches: FetchAhead;
  shipments: Shipments;
  holds: ShippedIds | undefined;
  config: Config;
  limits: GroupLimits;
  report: RunReport;
  clock: Clock;
  lease: RunLease | undefined;
  signal: AbortSignal | undefined;
}

/** Fetch ahead → filter/format → group → ship (and save), page by page; returns once every group shipped is saved. */
async function exportPages({ fetches, shipments, holds, config, limits, report, clock, lease, signal }: ExportLoop): Promise<void> {
  for (;;) {
    // A group waits for the next page at most maxWaitMs from its first page (the next request may be held
    // by the rate limit): past that, it ships first.
    const since = shipments.gatheringSince;
    if (since !== null && !(await fetches.settlesWithin(since + limits.maxWaitMs - clock.now()))) await shipments.handOff();
    let page: FetchedPage;
    try {
      page = await fetches.next();
    } catch (error) {
      // Auth0 failed or the time is up: what was fetched before is still shipped and saved.
      await shipments.finish();
      throw error;
    }
    lease?.check();
    if (page.logs.length === 0) break;
    // Auth0 returns up to `take` logs newer than the checkpoint: a short page means it had no more just
    // now, so the run is caught up without spending another request to hear so (follow mode polls often).
    const caughtUp = page.logs.length < config.batchSize;
    // Fetch ahead: the next request overlaps this page's formatting and the previous group's delivery.
    if (!caughtUp) fetches.ahead(page.lastId, shipments.slowestMs);
    shipments.add(await preparePage(page, holds, config));
    // While a backlog drains (a full page, the next one on its way) pages gather into one shipment, up to
    // PAGES_PER_SHIPMENT; caught up, a page ships at once.
    if (!shipments.shouldWait(limits) || caughtUp || !fetches.waiting || signal?.aborted) await shipments.handOff();

    if (signal?.aborted) {
      report.stoppedBy = 'shutdown';
      break;
    }
    if (caughtUp) break;
    if (!fetches.waiting) {
      report.stoppedBy = 'deadline';
      report.warnings.push('The run used its time budget before catching up; the next run continues from the checkpoint.');
      break;
    }
  }
  await shipments.finish();
}

/** Retention after a run that ended well; a failure to forget is only a warning. */
async function forgetOldShippedIds(shipped: ShippedIds, now: number, report: RunReport): Promise<void> {
  try {
    await pruneShippedIds(shipped, now, report.checkpoint, true);
  } catch (error) {
    report.warnings.push(`Could not forget old shipped ids: ${error instanceof Error ? error.message : String(error)}`);
  }
}
