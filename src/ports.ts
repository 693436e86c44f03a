/**
 * The seams of the program. The run loop talks only to these interfaces;
 * adapters (Auth0 over HTTPS, Papertrail over TLS, a database or webtask
 * storage, the system clock) live in their own files and are tested against
 * real servers, while the core is tested with in-memory fakes.
 */
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
}

export interface LogSink {
  /**
   * Resolves only once every line has been delivered (see the README's
   * "What shipped means"); rejects with a SinkError otherwise.
   */
  send(lines: readonly string[]): Promise<void>;
  /** Releases connections. Safe to call more than once. */
  close(): Promise<void>;
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
  /** Records `ids` as shipped at `at` (epoch ms). Recording an id twice keeps it once. */
  record(ids: readonly string[], at: number): Promise<void>;
  /** Which of `ids` are already recorded. */
  alreadyShipped(ids: readonly string[]): Promise<Set<string>>;
  /** Forgets ids shipped before `before` (epoch ms); returns how many were forgotten. */
  prune(before: number): Promise<number>;
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
