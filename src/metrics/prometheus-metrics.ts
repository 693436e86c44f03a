/**
 * Metrics kept with prom-client for the service's GET /metrics. Each instance
 * has its own registry (no global state), with Node's default process metrics.
 * Names and meanings: README, "Alerts and monitoring". Histograms carry no
 * labels: one series each is all the alert rules need, and it keeps the
 * exposition readable by the simplest parsers.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Metrics } from '../ports';

const P = 'auth0_papertrail_';

export class PrometheusMetrics implements Metrics {
  readonly registry = new Registry();
  private readonly runs = new Counter({ name: `${P}runs_total`, help: 'Export runs by outcome (ok, failed, skipped: another run held the lease) and trigger.', labelNames: ['status', 'trigger'], registers: [this.registry] });
  private readonly runDuration = new Histogram({ name: `${P}run_duration_seconds`, help: 'Duration of export runs (ok or failed; runs_total has the outcomes).', buckets: [0.1, 0.5, 1, 5, 15, 30, 60, 300, 900, 3600], registers: [this.registry] });
  private readonly fetched = new Counter({ name: `${P}logs_fetched_total`, help: 'Logs read from Auth0 in pages whose checkpoint was saved.', registers: [this.registry] });
  private readonly exported = new Counter({ name: `${P}logs_exported_total`, help: 'Logs delivered to Papertrail and confirmed.', registers: [this.registry] });
  private readonly filteredOut = new Counter({ name: `${P}logs_filtered_out_total`, help: 'Logs left out by LOG_LEVEL / LOG_TYPES.', registers: [this.registry] });
  private readonly truncated = new Counter({ name: `${P}logs_truncated_total`, help: "Logs shipped in cut-down form because they exceeded Papertrail's message size.", registers: [this.registry] });
  private readonly lag = new Gauge({ name: `${P}lag_seconds`, help: 'How far behind the last run ended: age of the newest exported log when logs were still waiting, 0 when caught up.', registers: [this.registry] });
  private readonly lastSuccess = new Gauge({ name: `${P}last_success_timestamp_seconds`, help: 'When the last successful run finished (Unix time; 0 before any).', registers: [this.registry] });
  private readonly auth0Requests = new Counter({ name: `${P}auth0_requests_total`, help: 'Answers from Auth0 by endpoint (logs, token) and HTTP status (0: no answer).', labelNames: ['endpoint', 'status'], registers: [this.registry] });
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
  }

  /** Restores what the state document knows, so a restarted service does not report "never". */
  restore(state: { lastSuccessAt: string | null }): void {
    if (state.lastSuccessAt !== null) this.lastSuccess.set(Date.parse(state.lastSuccessAt) / 1000);
  }

  shipmentSaved(shipment: { pages: number; fetched: number; exported: number; filteredOut: number; truncated: number }): void {
    this.pages.inc(shipment.pages);
    this.fetched.inc(shipment.fetched);
    this.exported.inc(shipment.exported);
    this.filteredOut.inc(shipment.filteredOut);
    this.truncated.inc(shipment.truncated);
  }

  shipmentConfirmed(ms: number): void {
    this.confirm.observe(ms / 1000);
  }

  sinkFailed(code: string): void {
    this.sinkFailures.inc({ code });
  }

  runFinished(run: { status: 'ok' | 'failed' | 'skipped'; trigger: string; durationMs: number; lagSeconds: number | null; finishedAt: number }): void {
    this.runs.inc({ status: run.status, trigger: run.trigger });
    if (run.status === 'skipped') return;
    this.runDuration.observe(run.durationMs / 1000);
    if (run.lagSeconds !== null && run.status === 'ok') this.lag.set(run.lagSeconds);
    if (run.status === 'ok') this.lastSuccess.set(run.finishedAt / 1000);
  }

  auth0Response(endpoint: 'logs' | 'token', status: number): void {
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

  streamRecords(outcome: 'shipped' | 'filtered' | 'duplicate', count: number): void {
    this.streamRecordsTotal.inc({ outcome }, count);
  }

  /** With a log stream only: its status is read at each scrape, so the gauge is never staler than /health. */
  watchStream(status: () => 'ok' | 'waiting' | 'silent'): void {
    new Gauge({
      name: `${P}stream_silent`,
      help: 'Whether the log stream is silent, as /health says (1: nothing delivered for LOG_STREAM_MAX_SILENCE_SECONDS while the poller found logs it had not; 0 otherwise).',
      registers: [this.registry],
      collect() {
        this.set(status() === 'silent' ? 1 : 0);
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
