/**
 * One export run: read the checkpoint, then fetch → filter → format page by
 * page, ship a group of pages → save the checkpoint, until Auth0 has nothing
 * newer or the run's time is up. Fetching never waits for the receiver: the
 * next pages are fetched while the previous group ships.
 *
 * At-least-once: the checkpoint moves past a group only after the sink has
 * confirmed every line of it, so a failure or crash anywhere re-ships at most
 * the group in flight and never skips a page.
 *
 * Shipments are adaptive: a page ships at once when the receiver is free;
 * the pages fetched while it confirms the previous shipment go together in
 * the next, up to PAGES_PER_SHIPMENT (see stages/group-pages.ts).
 */
import type { Config } from './config';
import { LeaseLostError, OutOfTimeError, SinkError, toErrorRecord, type ErrorRecord } from './errors';
import { noMetrics, SEND_IN_DOUBT_MS, type Auth0LogsClient, type Clock, type LogSink, type Logger, type Metrics, type Notifier, type ShippedIds, type StateStore } from './ports';
import { fetchLogs, type FetchedPage } from './stages/fetch-logs';
import { filterLogs } from './stages/filter-logs';
import { readCheckpoint, type StartSource } from './stages/read-checkpoint';
import { applyStartFrom, saveCheckpoint } from './stages/save-checkpoint';
import { addPage, groupLimitsFor, isFull, newer, type Group, type GroupLimits } from './stages/group-pages';
import { formatLogs } from './stages/ship-logs';
import { PendingRecord, skipShipped } from './stages/skip-shipped';
import { describeTakeBack, reshipFirst, takeBack, type TakeBack } from './stages/take-back';
import { forgetShippedIds, pruneShippedIds } from './storage/retention';
import { RunHolds } from './storage/holding-shipped-ids';
import type { RunLease } from './storage/run-lease';
import type { ReshipRange } from './storage/state';

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

export type StopReason = 'caught-up' | 'deadline' | 'rate-limit' | 'shutdown' | 'error' | 'lease-lost';

export interface RunReport {
  /** `lease-lost`: another run took the lease; this one stopped and moved nothing (error code LEASE_LOST). */
  status: 'ok' | 'failed' | 'lease-lost';
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  startSource: StartSource | null;
  startCheckpoint: string | null;
  checkpoint: string | null;
  fetched: number;
  exported: number;
  filteredOut: number;
  truncated: number;
  pages: number;
  /** Logs left out because they were already shipped (by the log stream, or by an earlier run that stopped before saving its checkpoint). */
  alreadyShipped?: number;
  stoppedBy: StopReason;
  /** Seconds between now and the newest event exported so far (by any run); null before the first. */
  lagSeconds: number | null;
  warnings: string[];
  error?: ErrorRecord;
  /** The last shipment was in doubt: whether it was taken back, recorded to be shipped again, or is still pending. */
  takeBack?: TakeBack;
  /** Pages in doubt recorded by an earlier run, which this run shipped first. */
  reshipped?: ReshipRange;
}

/** Do not start a page unless this much time is left, or twice the slowest group shipment so far. */
const MIN_PAGE_BUDGET_MS = 1_000;
const FINISH_MARGIN_MS = 1_000;
/** The most recent shipments a take-back can reach back to. */
const MAX_GROUPS_IN_DOUBT = 1_000;

/**
 * `signal` asks the run to stop early (service shutdown): the pages already
 * fetched are shipped and saved, no new page is started.
 */
export async function runOnce(deps: RunDeps, config: Config, signal?: AbortSignal, limits: GroupLimits = groupLimitsFor(config)): Promise<RunReport> {
  const { clock, log, lease } = deps;
  const metrics = deps.metrics ?? noMetrics;
  // Every write this run makes goes through these views: refused once another run took the lease.
  const store = lease ? lease.store(deps.store) : deps.store;
  // The one owner of the ids this run holds: whatever path the run ends by, they are released below.
  const holds = deps.shipped ? new RunHolds(lease ? lease.shipped(deps.shipped) : deps.shipped) : undefined;
  const shipped: ShippedIds | undefined = holds;
  const started = clock.now();
  // Requests and waits stop this much before the budget, leaving time to save and report within it.
  const deadline = started + config.maxRunMs - Math.min(FINISH_MARGIN_MS, config.maxRunMs / 20);
  const report: RunReport = {
    status: 'ok', startedAt: new Date(started).toISOString(), finishedAt: '', durationMs: 0,
    startSource: null, startCheckpoint: null, checkpoint: null,
    fetched: 0, exported: 0, filteredOut: 0, truncated: 0, pages: 0,
    stoppedBy: 'caught-up', lagSeconds: null, warnings: [...config.warnings],
    ...(deps.shipped ? { alreadyShipped: 0 } : {}),
  };
  const pendingRecord = new PendingRecord(shipped, () => clock.now());
  let newestDate: string | null = null;
  let slowestShipMs = 0;
  const hasTimeFor = (): boolean => clock.now() + Math.max(MIN_PAGE_BUDGET_MS, 2 * slowestShipMs) < deadline;
  // Aborted when the run ends, so that a page fetched ahead and no longer wanted
  // (the run failed, or stopped) does not go on retrying after the run is over.
  const fetching = new AbortController();
  lease?.signal.addEventListener('abort', () => fetching.abort(lease.lost), { once: true });
  const fetchFrom = (from: string): Promise<FetchedPage> => fetchLogs(deps.auth0, { from, take: config.batchSize, deadline, signal: fetching.signal });

  let pending: Promise<FetchedPage> | null = null;
  /**
   * The checkpoint before each of the recent groups shipped by this run, oldest first, to take back
   * every group the sink puts in doubt: a receiver going away can drop a shipment and still confirm
   * the next one before the sink sees it gone (SinkError.inDoubt), so taking back only the last would lose one.
   */
  const beforeGroups: string[] = [];
  /**
   * The shipments in doubt (see take-back.ts): taken back or recorded to be shipped again,
   * on the store itself, since a run that lost its lease must still leave that record. Never throws.
   */
  const takeBackIfInDoubt = async (error: unknown): Promise<void> => {
    if (!(error instanceof SinkError && error.code === 'SINK_RECEIVER_GONE') || beforeGroups.length === 0 || report.checkpoint === null || report.takeBack) return;
    const after = beforeGroups[Math.max(0, beforeGroups.length - error.inDoubt)] as string;
    const holds = lease ? (state: Parameters<RunLease['holds']>[0]) => lease.holds(state) : () => true;
    report.takeBack = await takeBack(deps.store, { after, through: report.checkpoint }, holds, clock, deadline + FINISH_MARGIN_MS);
    report.warnings.push(describeTakeBack(report.takeBack));
    if (report.takeBack.status === 'done') report.checkpoint = after;
  };
  /** Never throws: the clean-up after it (releasing held ids, closing the sink) must always run. */
  const fail = async (error: unknown): Promise<void> => {
    await takeBackIfInDoubt(error);
    const lost = lease?.lost ?? (error instanceof LeaseLostError ? error : null);
    report.status = lost ? 'lease-lost' : 'failed';
    report.stoppedBy = lost ? 'lease-lost' : 'error';
    report.error = toErrorRecord(lost ?? error);
  };

  /** Ships a group, then saves its checkpoint: the only place the checkpoint moves forward. */
  const ship = async (group: Group): Promise<void> => {
    const shipStarted = clock.now();
    // A run that lost its lease ships nothing more: the new holder ships these pages.
    lease?.check();
    await deps.sink.send(group.lines);
    if (group.lines.length > 0) {
      // This send succeeded, so the groups confirmed long enough before it can no longer be put in doubt
      // and are recorded; this one waits for a later send or the close (see skip-shipped.ts).
      await pendingRecord.settle(clock.now() - SEND_IN_DOUBT_MS);
      pendingRecord.wait(group);
    } else {
      shipped?.release?.(group.held);
    }
    await saveCheckpoint(store, group.lastId, group.newestDate);
    if (group.lines.length > 0 && report.checkpoint !== null) {
      beforeGroups.push(report.checkpoint);
      // The sink puts in doubt only sends confirmed within SEND_IN_DOUBT_MS; a drain confirms far fewer than this in that time.
      if (beforeGroups.length > MAX_GROUPS_IN_DOUBT) beforeGroups.shift();
    }
    if (report.alreadyShipped !== undefined) report.alreadyShipped += group.alreadyShipped;
    metrics.shipmentSaved({ pages: group.pages, fetched: group.fetched, exported: group.lines.length, filteredOut: group.filteredOut, truncated: group.truncated, alreadyShipped: group.alreadyShipped });
    const first = report.pages + 1;
    report.pages += group.pages;
    report.fetched += group.fetched;
    report.exported += group.lines.length;
    report.filteredOut += group.filteredOut;
    report.truncated += group.truncated;
    report.checkpoint = group.lastId;
    newestDate = newer(newestDate, group.newestDate);
    slowestShipMs = Math.max(slowestShipMs, clock.now() - shipStarted);
    const pages = group.pages === 1 ? `page ${first}` : `pages ${first}-${report.pages}`;
    log.info(`${pages}: fetched ${group.fetched}, exported ${group.lines.length}${group.truncated ? ` (${group.truncated} truncated)` : ''}, filtered out ${group.filteredOut}${group.alreadyShipped ? `, already shipped ${group.alreadyShipped}` : ''}, checkpoint ${group.lastId}`);
  };
  /** The previous group's shipment; at most one is in flight, so checkpoints are saved in order. */
  let shipping: Promise<void> | null = null;
  /** Whether the receiver is still confirming the previous shipment: meanwhile, pages fetched join the next one. */
  let confirming = false;
  let group: Group | null = null;
  const handOff = async (): Promise<void> => {
    const next = group;
    group = null;
    if (next === null) return;
    // If the previous shipment failed, this one is never shipped; its ids are released with the run's.
    if (shipping) await shipping;
    confirming = true;
    shipping = ship(next).finally(() => {
      confirming = false;
    });
    shipping.catch(() => undefined); // surfaced when awaited
  };

  try {
    let state = await store.read();
    if (state.reship !== null && config.startFrom === null) {
      const reshipped = await reshipFirst(store, state);
      if (reshipped) {
        report.reshipped = reshipped;
        report.warnings.push(`Shipping first the pages in doubt left by an earlier run (after log ${reshipped.after} through ${reshipped.through}).`);
      }
      state = await store.read();
    }
    newestDate = state.newestExportedDate;
    const start = readCheckpoint(state, config.startFrom, started);
    if (start.source === 'START_FROM') {
      await applyStartFrom(store, start.from);
      if (shipped) await forgetShippedIds(shipped);
      report.warnings.push(`START_FROM applied: export restarted after log ${start.from}.`);
    }
    report.startSource = start.source;
    report.startCheckpoint = report.checkpoint = start.from;
    log.info(`run started: from ${start.from} (${start.source}), batch ${config.batchSize}, budget ${Math.round(config.maxRunMs / 1000)} s`);

    pending = fetchFrom(start.from);
    for (;;) {
      // A group does not wait long for a page that is slow to come (a rate-limit wait): it ships first.
      // A group does not wait for a page that is slow to come (a rate-limit wait) once the receiver is free
      // to take it, nor longer than maxWaitMs in any case: it ships first.
      if (group !== null && !(await settlesWithin(pending, group.since + limits.maxWaitMs - clock.now(), shipping))) await handOff();
      let page: FetchedPage;
      try {
        page = await pending;
      } catch (error) {
        // Auth0 failed or the time is up: what was fetched before is still shipped and saved.
        await handOff();
        if (shipping) await shipping;
        throw error;
      }
      pending = null;
      lease?.check();
      if (page.logs.length === 0) break;
      // Auth0 returns up to `take` logs newer than the checkpoint: a short page means it had no more just
      // now, so the run is caught up without spending another request to hear so (follow mode polls often).
      const caughtUp = page.logs.length < config.batchSize;
      // Fetch ahead: the next request overlaps this page's formatting and the previous group's delivery.
      if (!caughtUp && hasTimeFor()) {
        pending = fetchFrom(page.lastId);
        pending.catch(() => undefined); // surfaced when awaited
      }
      const filtered = filterLogs(page.logs, config.filter);
      // Held until the group is recorded or given up, so that a log stream delivering the same ids waits.
      const unshipped = await skipShipped(shipped, filtered);
      const formatted = formatLogs(unshipped.fresh, config.papertrail);
      group = addPage(group, { lastId: page.lastId, fetched: page.logs.length, filteredOut: page.logs.length - filtered.length, unshipped, formatted }, clock.now());

      // Adaptive shipments: a page ships at once unless the receiver is still confirming the previous
      // shipment while a backlog drains (a full page, the next one on its way); then it waits for the
      // next pages, up to PAGES_PER_SHIPMENT, and they go together as soon as the receiver is free.
      if (!confirming || isFull(group, limits) || caughtUp || !pending || signal?.aborted) await handOff();

      if (signal?.aborted) {
        report.stoppedBy = 'shutdown';
        break;
      }
      if (caughtUp) break;
      if (!pending) {
        report.stoppedBy = 'deadline';
        report.warnings.push('The run used its time budget before catching up; the next run continues from the checkpoint.');
        break;
      }
    }
    await handOff();
    if (shipping) await shipping;
  } catch (error) {
    if (error instanceof OutOfTimeError && !lease?.lost) {
      report.stoppedBy = error.code === 'RATE_LIMITED' ? 'rate-limit' : 'deadline';
      report.warnings.push(error.message);
    } else {
      await fail(error);
    }
  }
  fetching.abort();
  // A group already confirmed when a fetch failed still has its checkpoint saved; one that fails fails the run.
  if (shipping) {
    try {
      await shipping;
    } catch (error) {
      if (report.status === 'ok') await fail(error);
    }
  }
  if (shipped && report.status === 'ok') {
    try {
      await pruneShippedIds(shipped, clock.now(), report.checkpoint, true);
    } catch (error) {
      report.warnings.push(`Could not forget old shipped ids: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  // Pages fetched but not shipped (a failure or an early stop) are simply fetched again by the next run.
  group = null;
  // Closing gives the sink its last word on the last group (SINK_RECEIVER_GONE), so it counts as part of the run.
  try {
    await deps.sink.close();
    // The last page is certain unless the sink put it in doubt; then it stays unrecorded, to be shipped again.
    if (report.error?.code !== 'SINK_RECEIVER_GONE' && report.takeBack === undefined) await pendingRecord.settle();
  } catch (error) {
    if (report.status === 'ok') await fail(error);
    else await takeBackIfInDoubt(error);
  }
  pendingRecord.abandon();
  // Every id still held (a shipment that failed, pages never shipped, a page left in doubt) is given back,
  // so that the next run and log-stream deliveries never wait for them.
  holds?.releaseAll();

  const finished = clock.now();
  report.finishedAt = new Date(finished).toISOString();
  report.durationMs = finished - started;
  report.lagSeconds = newestDate === null ? null : Math.max(0, Math.round((finished - Date.parse(newestDate)) / 1000));
  if (report.status === 'ok') {
    log.info(`run finished: ${report.exported} exported, ${report.filteredOut} filtered out, ${report.pages} pages in ${report.durationMs} ms, stopped by ${report.stoppedBy}, checkpoint ${report.checkpoint}`);
  } else if (report.status === 'lease-lost') {
    log.error(`run stopped: LEASE_LOST after ${report.pages} pages (${report.exported} exported; the checkpoint it last saved is ${report.checkpoint}): ${report.error?.message ?? ''}`);
  } else {
    log.error(`run failed after ${report.pages} pages (${report.exported} exported; checkpoint stays at ${report.checkpoint}): ${report.error?.message ?? 'unknown error'}`);
  }
  return report;
}

/** Whether `promise` settles (either way) within `ms`, and before `unless` settles; never rejects. */
async function settlesWithin(promise: Promise<unknown> | null, ms: number, unless: Promise<unknown> | null = null): Promise<boolean> {
  if (promise === null) return true;
  if (ms <= 0) return false;
  let timer: NodeJS.Timeout | undefined;
  const settled = promise.then(() => true, () => true);
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const free = unless === null ? [] : [unless.then(() => false, () => false)];
  try {
    return await Promise.race([settled, late, ...free]);
  } finally {
    clearTimeout(timer);
  }
}
