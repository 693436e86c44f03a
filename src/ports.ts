/**
 * The seams of the program. The run loop talks only to these interfaces;
 * adapters (Auth0 over HTTPS, Papertrail over TLS, a database or webtask
 * storage, the system clock, a Slack webhook, Prometheus) live in their own files and are tested against
 * real servers, while the core is tested with in-memory fakes.
 */
import type { Alert } from './alerts/alert-rules';
import type { Auth0Log } from './auth0/auth0-log';
import type { StateDocument } from './storage/state';

export interface LogsPage {
  logs: Auth0Log[];
}

export interface LogsQuery {
  from: string;
  take: number;
  /** Epoch ms; bounds every retry and rate-limit wait. */
  deadline: number;
  /** Abandons the call: no request, retry or wait starts after it fires. */
  signal?: AbortSignal;
}

export interface Auth0LogsClient {
  /** One page in checkpoint mode: the logs strictly after `from`, in `log_id` order. */
  getLogs(query: LogsQuery): Promise<LogsPage>;
  /** Optional: start what the first request needs (a token) now, within these bounds; failures surface there. */
  warmUp?(bounds: Pick<LogsQuery, 'deadline' | 'signal'>): void;
}

/**
 * How long after confirming a send a sink can still put it in doubt: a
 * receiver going away (SINK_RECEIVER_GONE) may have dropped every send it
 * confirmed this shortly before, not only the last (SinkError.inDoubt says
 * how many). Ids of a shipment are recorded as shipped only once this long
 * has passed, or the sink was closed without doubt.
 */
export const SEND_IN_DOUBT_MS = 1_000;
/**
 * The most sends a receiver going away puts in doubt (SinkError.inDoubt): the
 * last one confirmed, and the one before it. A send is one shipment, so this
 * is also how many shipments back a take-back can reach.
 */
export const MAX_SENDS_IN_DOUBT = 2;

export interface LogSink {
  /**
   * Resolves only once every line has been delivered (see the README's
   * "What shipped means"); rejects with a SinkError otherwise.
   */
  send(lines: readonly string[]): Promise<void>;
  /** Releases connections. Safe to call more than once. */
  close(): Promise<void>;
  /**
   * Optional: what `close` checks about the last confirmed `send` (that the
   * receiver did not go away right after confirming it), without closing, so
   * the sink serves the next `send` too. Rejects with a SinkError when that
   * send is in doubt.
   */
  checkLastConfirmed?(): Promise<void>;
}

export interface StateStore {
  read(): Promise<StateDocument>;
  /**
   * Applies `change` to the current document and writes it with the
   * storage's conflict detection, re-reading and re-applying on conflict.
   * `change` must therefore be pure. Returns the document as written.
   */
  update(change: (current: StateDocument) => StateDocument): Promise<StateDocument>;
}

/**
 * The record of recently shipped `log_id`s, shared by every path that ships
 * (the poller's pages, log-stream deliveries) so that each can skip what
 * another already delivered. Standalone stores keep it in a table indexed by
 * id; the extension has no stream and no such record.
 */
export interface ShippedIds {
  /**
   * Records `ids` as shipped at `at` (epoch ms). Recording an id twice keeps it once.
   * With `fence` (a lease generation), the write happens only while that generation
   * holds the lease, checked in the same statement; otherwise it rejects with LeaseLostError.
   */
  record(ids: readonly string[], at: number, fence?: number): Promise<void>;
  /** Which of `ids` are already recorded. */
  alreadyShipped(ids: readonly string[]): Promise<Set<string>>;
  /** Forgets ids shipped before `before` (epoch ms); returns how many were forgotten. `fence` as for `record`. */
  prune(before: number, fence?: number): Promise<number>;
  /**
   * Optional: makes check → ship → record exclusive per id among shippers that
   * share this record (a stream delivery and a poller page, or two deliveries
   * of the same batch). Resolves once the caller holds every id in `ids`,
   * waiting while another holder has one; a holder checks `alreadyShipped`
   * only after `hold`, and calls `release` once it has recorded or given up.
   */
  hold?(ids: readonly string[]): Promise<void>;
  release?(ids: readonly string[]): void;
}

export interface Clock {
  now(): number;
  /** Rejects with the signal's reason as soon as it fires. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** Where alerts go (a Slack-compatible incoming webhook). */
export interface Notifier {
  /**
   * Delivers one alert within a short, bounded time, retrying a little.
   * Never rejects: the outcome is reported, and a failed delivery never
   * fails, slows beyond that bound or blocks the run that triggered it.
   */
  notify(alert: Alert): Promise<NotifyOutcome>;
}

export interface NotifyOutcome {
  delivered: boolean;
  attempts: number;
  /** Why it was not delivered (an error code or HTTP status); never the webhook URL. */
  detail?: string;
}

/**
 * What the program counts, for GET /metrics. Called per page, per request or
 * per run, never per event, so the hot path stays cheap. `noMetrics` is the
 * default; the extension, which has no /metrics, never loads prom-client.
 */
export interface Metrics {
  /** A shipment (PAGES_PER_SHIPMENT pages) whose checkpoint was saved: its counts, as the run report adds them (the poller's path). */
  shipmentSaved(shipment: { pages: number; fetched: number; exported: number; filteredOut: number; truncated: number; alreadyShipped: number }): void;
  /** The sink confirmed a shipment of lines after `ms`. */
  shipmentConfirmed(ms: number): void;
  sinkFailed(code: string): void;
  /** A run ended (`skipped`: another run held the lease; `lease-lost`: another run took it during this one). `lagSeconds` is the backlog lag (0 when caught up). */
  runFinished(run: { status: 'ok' | 'failed' | 'skipped' | 'lease-lost'; trigger: string; durationMs: number; lagSeconds: number | null; finishedAt: number }): void;
  /** A request sent to Auth0, with its answer's status (0: no answer: timeout, network error, or abandoned by the run). */
  auth0Response(endpoint: Auth0Endpoint, status: number): void;
  rateLimitWait(ms: number): void;
  tokenRefreshed(): void;
  /** A log-stream request answered with `status`. */
  streamRequest(status: number): void;
  /** A log-stream request answered 200: its records (`fetched`) and what became of them (the stream's path). */
  streamDelivered(delivery: { fetched: number; exported: number; filteredOut: number; truncated: number; alreadyShipped: number }): void;
  alertSent(kind: string, delivered: boolean): void;
}

/** The Management API endpoints the program calls, as /metrics labels them. */
export type Auth0Endpoint = 'logs' | 'token' | 'log-streams';

export const noMetrics: Metrics = {
  shipmentSaved: () => undefined,
  shipmentConfirmed: () => undefined,
  sinkFailed: () => undefined,
  runFinished: () => undefined,
  auth0Response: () => undefined,
  rateLimitWait: () => undefined,
  tokenRefreshed: () => undefined,
  streamRequest: () => undefined,
  streamDelivered: () => undefined,
  alertSent: () => undefined,
};
