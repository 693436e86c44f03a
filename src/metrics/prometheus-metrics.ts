/**
 * Metrics kept with prom-client for the service's GET /metrics. Each instance
 * has its own registry (no global state), with Node's default process metrics.
 * Names and meanings: README, "Alerts and monitoring". Histograms carry no
 * labels: one series each is all the alert rules need, and it keeps the
 * exposition readable by the simplest parsers.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { lastSuccessfulLag } from '../alerts/alert-rules';
import type { Auth0Endpoint, Metrics } from '../ports';
import type { RunRecord } from '../storage/state';

const P = 'auth0_papertrail_';
const PATHS = ['poller', 'stream'] as const;
type Path = (typeof PATHS)[number];

export class PrometheusMetrics implements Metrics {
  readonly registry = new Registry();
  private lastConfirmedAt: number | null = null;
  private lastFailedAt: number | null = null;
  private readonly runs = new Counter({ name: `${P}runs_total`, help: 'Export runs by outcome (ok, failed, skipped: another run held the lease, lease-lost: another run took the lease during this one, which stopped) and trigger.', labelNames: ['status', 'trigger'], registers: [this.registry] });
  private readonly runDuration = new Histogram({ name: `${P}run_duration_seconds`, help: 'Duration of export runs (ok or failed; runs_total has the outcomes).', buckets: [0.1, 0.5, 1, 5, 15, 30, 60, 300, 900, 3600], registers: [this.registry] });
  // Log counts carry `path`: "poller" (runs reading Auth0's API) or "stream" (POST /log-stream), so each adds up on its own and together.
  private readonly fetched = new Counter({ name: `${P}logs_fetched_total`, help: 'Logs received by path: read from Auth0 in pages whose checkpoint was saved (poller), or records of log-stream requests answered 200 (stream).', labelNames: ['path'], registers: [this.registry] });
  private readonly exported = new Counter({ name: `${P}logs_exported_total`, help: 'Logs delivered to Papertrail and confirmed, by path.', labelNames: ['path'], registers: [this.registry] });
  private readonly filteredOut = new Counter({ name: `${P}logs_filtered_out_total`, help: 'Logs left out by LOG_LEVEL / LOG_TYPES, by path.', labelNames: ['path'], registers: [this.registry] });
  private readonly truncated = new Counter({ name: `${P}logs_truncated_total`, help: "Logs shipped in cut-down form because they exceeded Papertrail's message size, by path.", labelNames: ['path'], registers: [this.registry] });
  private readonly alreadyShipped = new Counter({ name: `${P}logs_already_shipped_total`, help: 'Logs not shipped again because the other path, an earlier delivery or the same request had shipped them, by path.', labelNames: ['path'], registers: [this.registry] });
  private readonly lag = new Gauge({ name: `${P}lag_seconds`, help: 'How far behind the last run ended: age of the newest exported log when logs were still waiting, 0 when caught up.', registers: [this.registry] });
  private readonly lastSuccess = new Gauge({ name: `${P}last_success_timestamp_seconds`, help: 'When the last successful run finished (Unix time; 0 before any).', registers: [this.registry] });
  private readonly lastFailure = new Gauge({ name: `${P}last_failure_timestamp_seconds`, help: 'When the last failed run finished (Unix time; 0 before any). Later than the last success: the export is failing now.', registers: [this.registry] });
  private readonly sinkLastConfirmed = new Gauge({ name: `${P}sink_last_confirmed_timestamp_seconds`, help: 'When Papertrail last confirmed a send, by either path (Unix time; 0 before any).', registers: [this.registry] });
  private readonly sinkLastFailure = new Gauge({ name: `${P}sink_last_failure_timestamp_seconds`, help: 'When a send to Papertrail last failed, by either path (Unix time; 0 before any). Later than the last confirmation: Papertrail is failing now.', registers: [this.registry] });
  private readonly auth0Requests = new Counter({ name: `${P}auth0_requests_total`, help: 'Requests sent to Auth0, by endpoint (logs, token, log-streams) and the HTTP status answered (0: no answer: timeout, network error, or abandoned by a run that stopped).', labelNames: ['endpoint', 'status'], registers: [this.registry] });
  private readonly rateLimitWaits = new Counter({ name: `${P}auth0_rate_limit_waits_total`, help: "Waits for Auth0's rate limit.", registers: [this.registry] });
  private readonly rateLimitSeconds = new Counter({ name: `${P}auth0_rate_limit_wait_seconds_total`, help: "Time spent waiting for Auth0's rate limit.", registers: [this.registry] });
  private readonly tokens = new Counter({ name: `${P}auth0_token_refreshes_total`, help: 'Management API access tokens obtained.', registers: [this.registry] });
  private readonly pages = new Counter({ name: `${P}pages_shipped_total`, help: 'Pages of logs confirmed by Papertrail and their checkpoint saved.', registers: [this.registry] });
  private readonly confirm = new Histogram({ name: `${P}sink_confirm_seconds`, help: 'Time from handing lines to the sink (a shipment of PAGES_PER_SHIPMENT pages, or a log-stream delivery) to their confirmation by the receiver.', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15], registers: [this.registry] });
  private readonly sinkFailures = new Counter({ name: `${P}sink_failures_total`, help: "Failed sends to Papertrail (the poller's and the log stream's) by error code.", labelNames: ['code'], registers: [this.registry] });
  private readonly streamRequests = new Counter({ name: `${P}stream_requests_total`, help: 'Log-stream requests by HTTP status answered.', labelNames: ['status'], registers: [this.registry] });
  private readonly streamRecordsTotal = new Counter({ name: `${P}stream_records_total`, help: 'Log-stream records by outcome (shipped, filtered, duplicate).', labelNames: ['outcome'], registers: [this.registry] });
  private readonly alerts = new Counter({ name: `${P}alerts_total`, help: 'Alerts sent by kind and whether they were delivered.', labelNames: ['kind', 'delivered'], registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    // Both paths' series exist from the start, so sums and rates over them never miss a path that has not run yet.
    for (const path of PATHS) {
      for (const counter of [this.fetched, this.exported, this.filteredOut, this.truncated, this.alreadyShipped]) counter.inc({ path }, 0);
    }
  }

  /** Restores what the state document knows, so a restarted service does not report "never", nor "fine" while its last run failed. */
  restore(state: { lastSuccessAt: string | null; runs?: readonly (Pick<RunRecord, 'status' | 'stoppedBy' | 'lagSeconds'> & { finishedAt?: string })[] }): void {
    if (state.lastSuccessAt !== null) this.lastSuccess.set(Date.parse(state.lastSuccessAt) / 1000);
    const failed = (state.runs ?? []).filter((r) => r.status === 'failed' && r.finishedAt !== undefined).at(-1);
    if (failed?.finishedAt !== undefined) this.lastFailure.set(Date.parse(failed.finishedAt) / 1000);
    const lag = lastSuccessfulLag(state.runs ?? []);
    if (lag !== null) this.lag.set(lag);
  }

  shipmentSaved(shipment: { pages: number; fetched: number; exported: number; filteredOut: number; truncated: number; alreadyShipped: number }): void {
    this.pages.inc(shipment.pages);
    this.countLogs('poller', shipment);
  }

  streamDelivered(delivery: { fetched: number; exported: number; filteredOut: number; truncated: number; alreadyShipped: number }): void {
    this.streamRecordsTotal.inc({ outcome: 'shipped' }, delivery.exported);
    this.streamRecordsTotal.inc({ outcome: 'filtered' }, delivery.filteredOut);
    this.streamRecordsTotal.inc({ outcome: 'duplicate' }, delivery.alreadyShipped);
    this.countLogs('stream', delivery);
  }

  private countLogs(path: Path, counts: { fetched: number; exported: number; filteredOut: number; truncated: number; alreadyShipped: number }): void {
    this.fetched.inc({ path }, counts.fetched);
    this.exported.inc({ path }, counts.exported);
    this.filteredOut.inc({ path }, counts.filteredOut);
    this.truncated.inc({ path }, counts.truncated);
    this.alreadyShipped.inc({ path }, counts.alreadyShipped);
  }

  shipmentConfirmed(ms: number): void {
    this.lastConfirmedAt = Date.now();
    this.confirm.observe(ms / 1000);
    this.sinkLastConfirmed.set(Date.now() / 1000);
  }

  sinkFailed(code: string): void {
    this.lastFailedAt = Date.now();
    this.sinkFailures.inc({ code });
    this.sinkLastFailure.set(Date.now() / 1000);
  }

  runFinished(run: { status: 'ok' | 'failed' | 'skipped' | 'lease-lost'; trigger: string; durationMs: number; lagSeconds: number | null; finishedAt: number }): void {
    this.runs.inc({ status: run.status, trigger: run.trigger });
    if (run.status === 'skipped') return;
    this.runDuration.observe(run.durationMs / 1000);
    if (run.lagSeconds !== null && run.status === 'ok') this.lag.set(run.lagSeconds);
    if (run.status === 'ok') this.lastSuccess.set(run.finishedAt / 1000);
    // A run that lost its lease is not a failure of the export: the run that took the lease carries on.
    else if (run.status === 'failed') this.lastFailure.set(run.finishedAt / 1000);
  }

  auth0Response(endpoint: Auth0Endpoint, status: number): void {
    this.auth0Requests.inc({ endpoint, status: String(status) });
  }

  rateLimitWait(ms: number): void {
    this.rateLimitWaits.inc();
    this.rateLimitSeconds.inc(ms / 1000);
  }

  tokenRefreshed(): void {
    this.tokens.inc();
  }

  streamRequest(status: number): void {
    this.streamRequests.inc({ status: String(status) });
  }

  /** When Papertrail last confirmed a send and last failed one, by either path (epoch ms; null: never since start). */
  sinkHealth(): { lastConfirmedAt: number | null; lastFailedAt: number | null } {
    return { lastConfirmedAt: this.lastConfirmedAt, lastFailedAt: this.lastFailedAt };
  }

  /** With the stream's status watched in Auth0: one series per status, 1 for the current one; read at each scrape. */
  watchStreamStatus(status: () => 'active' | 'paused' | 'suspended' | 'unknown', resumes: () => number): void {
    new Gauge({
      name: `${P}stream_status`,
      help: "The log stream's status in Auth0 (LOG_STREAM_STATUS_SECONDS): 1 for the current one of active, paused, suspended, unknown (not read yet, no read:log_streams scope, or not found).",
      labelNames: ['status'],
      registers: [this.registry],
      collect() {
        const now = status();
        for (const s of ['active', 'paused', 'suspended', 'unknown'] as const) this.set({ status: s }, s === now ? 1 : 0);
      },
    });
    new Counter({
      name: `${P}stream_auto_resumes_total`,
      help: 'Times this service set a paused or suspended log stream active again (LOG_STREAM_AUTO_RESUME).',
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(resumes());
      },
    });
  }

  /** With a log stream only: its status is read at each scrape (from the shared state), so the gauge is never staler than /health. */
  watchStream(status: () => Promise<'ok' | 'waiting' | 'silent'> | 'ok' | 'waiting' | 'silent'): void {
    new Gauge({
      name: `${P}stream_silent`,
      help: 'Whether the log stream is silent, as /health says (1: nothing delivered for LOG_STREAM_MAX_SILENCE_SECONDS while the poller found logs it had not; 0 otherwise).',
      registers: [this.registry],
      async collect() {
        this.set((await status()) === 'silent' ? 1 : 0);
      },
    });
  }

  /** The ranges of logs in doubt waiting to be shipped again (see rangesWaiting), read at each scrape as /health reads them. */
  watchReship(waiting: () => Promise<number>): void {
    new Gauge({
      name: `${P}reship_pending_ranges`,
      help: "Ranges of logs in doubt waiting to be shipped again, while /health says reship-pending: 1 for a range recorded in the state until a run takes it up, plus each take-back this service could not write yet and keeps retrying; 0 otherwise.",
      registers: [this.registry],
      async collect() {
        this.set(await waiting());
      },
    });
  }

  alertSent(kind: string, delivered: boolean): void {
    this.alerts.inc({ kind, delivered: String(delivered) });
  }

  /** The exposition, in the Prometheus text format. */
  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
