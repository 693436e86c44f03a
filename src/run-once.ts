/**
 * One export run: read the checkpoint, then page by page fetch → filter →
 * format → ship → save the checkpoint, until Auth0 has nothing newer or the
 * run's time is up. The next page is fetched while the current one ships.
 *
 * At-least-once: the checkpoint moves past a page only after the sink has
 * confirmed it, so a failure or crash anywhere re-ships at most the page in
 * flight and never skips one.
 */
import type { Config } from './config';
import { OutOfTimeError, SinkError, toErrorRecord, type ErrorRecord } from './errors';
import { noMetrics, type Auth0LogsClient, type Clock, type LogSink, type Logger, type Metrics, type Notifier, type ShippedIds, type StateStore } from './ports';
import { fetchLogs, type FetchedPage } from './stages/fetch-logs';
import { filterLogs } from './stages/filter-logs';
import { readCheckpoint, type StartSource } from './stages/read-checkpoint';
import { applyStartFrom, rewindCheckpoint, saveCheckpoint } from './stages/save-checkpoint';
import { shipLogs } from './stages/ship-logs';
import { PendingRecord, skipShipped } from './stages/skip-shipped';
import { forgetBefore } from './log-stream/retention';

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
}

export type StopReason = 'caught-up' | 'deadline' | 'rate-limit' | 'shutdown' | 'error';

export interface RunReport {
  status: 'ok' | 'failed';
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
}

/** Do not start a page unless this much time is left, or twice the slowest page so far. */
const MIN_PAGE_BUDGET_MS = 1_000;
const FINISH_MARGIN_MS = 1_000;

/**
 * `signal` asks the run to stop early (service shutdown): the page in flight
 * is finished and saved, no new page is started.
 */
export async function runOnce(deps: RunDeps, config: Config, signal?: AbortSignal): Promise<RunReport> {
  const { clock, log } = deps;
  const metrics = deps.metrics ?? noMetrics;
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
  const pendingRecord = new PendingRecord(deps.shipped, () => clock.now());
  let newestDate: string | null = null;
  let slowestPageMs = 0;
  const hasTimeFor = (): boolean => clock.now() + Math.max(MIN_PAGE_BUDGET_MS, 2 * slowestPageMs) < deadline;
  // Aborted when the run ends, so that a page fetched ahead and no longer wanted
  // (the run failed, or stopped) does not go on retrying after the run is over.
  const fetching = new AbortController();
  const fetchFrom = (from: string): Promise<FetchedPage> => fetchLogs(deps.auth0, { from, take: config.batchSize, deadline, signal: fetching.signal });

  let pending: Promise<FetchedPage> | null = null;
  /** The checkpoint before the last page shipped by this run, to take that page back if it is in doubt. */
  let beforeLastPage: string | null = null;
  const fail = async (error: unknown): Promise<void> => {
    if (error instanceof SinkError && error.code === 'SINK_RECEIVER_GONE' && beforeLastPage !== null && report.checkpoint !== null) {
      await rewindCheckpoint(deps.store, report.checkpoint, beforeLastPage);
      report.warnings.push(`The last page (after log ${beforeLastPage}) is shipped again by the next run, in case the receiver read it without keeping it.`);
      report.checkpoint = beforeLastPage;
    }
    report.status = 'failed';
    report.stoppedBy = 'error';
    report.error = toErrorRecord(error);
  };
  try {
    const state = await deps.store.read();
    newestDate = state.newestExportedDate;
    const start = readCheckpoint(state, config.startFrom, started);
    if (start.source === 'START_FROM') {
      await applyStartFrom(deps.store, start.from);
      report.warnings.push(`START_FROM applied: export restarted after log ${start.from}.`);
    }
    report.startSource = start.source;
    report.startCheckpoint = report.checkpoint = start.from;
    log.info(`run started: from ${start.from} (${start.source}), batch ${config.batchSize}, budget ${Math.round(config.maxRunMs / 1000)} s`);

    pending = fetchFrom(start.from);
    for (;;) {
      const pageStarted = clock.now();
      const page: FetchedPage = await pending;
      pending = null;
      if (page.logs.length === 0) break;
      // Fetch ahead: the next request overlaps this page's delivery.
      if (hasTimeFor()) {
        pending = fetchFrom(page.lastId);
        pending.catch(() => undefined); // surfaced when awaited
      }
      const filtered = filterLogs(page.logs, config.filter);
      const unshipped = await skipShipped(deps.shipped, filtered);
      const exported = unshipped.fresh;
      let shipped: Awaited<ReturnType<typeof shipLogs>>;
      try {
        shipped = await shipLogs(deps.sink, exported, config.papertrail);
      } catch (error) {
        deps.shipped?.release?.(unshipped.held);
        throw error;
      }
      if (exported.length > 0) {
        // This send succeeded, so the page before it is no longer in doubt.
        await pendingRecord.settle();
        pendingRecord.wait(unshipped);
      } else {
        deps.shipped?.release?.(unshipped.held);
      }
      await saveCheckpoint(deps.store, page.lastId, shipped.newestDate);
      if (exported.length > 0) beforeLastPage = report.checkpoint;
      if (report.alreadyShipped !== undefined) report.alreadyShipped += unshipped.alreadyShipped;

      metrics.pageSaved({ fetched: page.logs.length, exported: shipped.exported, filteredOut: page.logs.length - exported.length, truncated: shipped.truncated });
      report.pages++;
      report.fetched += page.logs.length;
      report.exported += shipped.exported;
      report.filteredOut += page.logs.length - filtered.length;
      report.truncated += shipped.truncated;
      report.checkpoint = page.lastId;
      if (shipped.newestDate !== null && (newestDate === null || Date.parse(shipped.newestDate) > Date.parse(newestDate))) newestDate = shipped.newestDate;
      slowestPageMs = Math.max(slowestPageMs, clock.now() - pageStarted);
      log.info(`page ${report.pages}: fetched ${page.logs.length}, exported ${shipped.exported}${shipped.truncated ? ` (${shipped.truncated} truncated)` : ''}, filtered out ${page.logs.length - filtered.length}${unshipped.alreadyShipped ? `, already shipped ${unshipped.alreadyShipped}` : ''}, checkpoint ${page.lastId}`);

      if (signal?.aborted) {
        report.stoppedBy = 'shutdown';
        break;
      }
      if (!pending) {
        report.stoppedBy = 'deadline';
        report.warnings.push('The run used its time budget before catching up; the next run continues from the checkpoint.');
        break;
      }
    }
  } catch (error) {
    if (error instanceof OutOfTimeError) {
      report.stoppedBy = error.code === 'RATE_LIMITED' ? 'rate-limit' : 'deadline';
      report.warnings.push(error.message);
    } else {
      await fail(error);
    }
  }
  fetching.abort();
  if (deps.shipped && report.status === 'ok') {
    try {
      await deps.shipped.prune(forgetBefore(clock.now(), report.checkpoint, true));
    } catch (error) {
      report.warnings.push(`Could not forget old shipped ids: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  // Closing gives the sink its last word on the last page (SINK_RECEIVER_GONE), so it counts as part of the run.
  try {
    await deps.sink.close();
    // The last page is certain unless the sink put it in doubt; then it stays unrecorded, to be shipped again.
    if (report.error?.code !== 'SINK_RECEIVER_GONE') await pendingRecord.settle();
  } catch (error) {
    if (report.status === 'ok') await fail(error);
  }
  pendingRecord.abandon();

  const finished = clock.now();
  report.finishedAt = new Date(finished).toISOString();
  report.durationMs = finished - started;
  report.lagSeconds = newestDate === null ? null : Math.max(0, Math.round((finished - Date.parse(newestDate)) / 1000));
  if (report.status === 'ok') {
    log.info(`run finished: ${report.exported} exported, ${report.filteredOut} filtered out, ${report.pages} pages in ${report.durationMs} ms, stopped by ${report.stoppedBy}, checkpoint ${report.checkpoint}`);
  } else {
    log.error(`run failed after ${report.pages} pages (${report.exported} exported; checkpoint stays at ${report.checkpoint}): ${report.error?.message ?? 'unknown error'}`);
  }
  return report;
}
