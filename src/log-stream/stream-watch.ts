/**
 * `serve` watching Auth0's side of the log stream: its status (active,
 * paused, suspended) read every LOG_STREAM_STATUS_SECONDS, shown on /health,
 * the dashboard and /metrics, alerted on when it changes, and, with
 * LOG_STREAM_AUTO_RESUME, healed: a paused or suspended stream is set active
 * again once Papertrail has confirmed deliveries since the stream was seen
 * stopped, at most once per backoff period.
 *
 * Alerts are decided inside the state store's conflict-checked update, like
 * a run's, so replicas that share the state alert once per change.
 */
import { decideStreamStatus } from '../alerts/alert-rules';
import { deliverAlerts } from '../alerts/deliver-alerts';
import { MissingScopeError, type LogStreamInfo, type LogStreamStatus, type LogStreamsApi } from '../auth0/log-streams-api';
import type { Clock, Logger, Metrics, Notifier, StateStore } from '../ports';
import { DEFAULT_STREAM_NAME, findOurStream } from './stream-setup';

export interface StreamWatchSnapshot {
  /** `unknown` until read, or when it cannot be (no scope, not found, Auth0 failing). */
  status: LogStreamStatus | 'unknown';
  id: string | null;
  name: string | null;
  /** The last successful reading (ISO). */
  checkedAt: string | null;
  /** Why the status is unknown or stale. */
  problem?: string;
  /** When this service first saw the stream out of `active` (ISO); null while active. */
  inactiveSince: string | null;
  autoResume: {
    enabled: boolean;
    /** Times this service set the stream active again since it started. */
    resumes: number;
    lastResumedAt: string | null;
    /** No resume before this (ISO): the backoff after the last one. */
    notBefore: string | null;
  };
}

export interface StreamWatchDeps {
  api: Pick<LogStreamsApi, 'get' | 'list' | 'update'>;
  store: StateStore;
  notifier: Notifier | undefined;
  log: Logger;
  metrics: Metrics;
  clock: Pick<Clock, 'now'>;
  /** When Papertrail last confirmed a send and last failed one, by either path (epoch ms; null: never). */
  sinkHealth(): { lastConfirmedAt: number | null; lastFailedAt: number | null };
  /** Whether Auth0's bucket has room for a request the poller would not miss; true when unknown. */
  budgetAllows(): boolean;
}

export interface StreamWatchSettings {
  id: string | null;
  token: string;
  intervalMs: number;
  autoResume: boolean;
}

/** The first wait after a resume before another, and the most it doubles to. */
const RESUME_BACKOFF_INTERVALS = 5;
const MAX_RESUME_BACKOFF_MS = 60 * 60_000;

export class StreamWatch {
  private stream: LogStreamInfo | null = null;
  private checkedAt: number | null = null;
  private problem: string | undefined;
  private inactiveSince: number | null = null;
  private resumes = 0;
  private lastResumedAt: number | null = null;
  private resumeBackoffMs: number;
  private notBefore = 0;
  private warned = new Set<string>();

  constructor(private readonly deps: StreamWatchDeps, private readonly settings: StreamWatchSettings) {
    this.resumeBackoffMs = Math.min(MAX_RESUME_BACKOFF_MS, settings.intervalMs * RESUME_BACKOFF_INTERVALS);
  }

  snapshot(): StreamWatchSnapshot {
    const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());
    return {
      status: this.stream?.status ?? 'unknown',
      id: this.stream?.id ?? this.settings.id,
      name: this.stream?.name ?? null,
      checkedAt: iso(this.checkedAt),
      ...(this.problem === undefined ? {} : { problem: this.problem }),
      inactiveSince: iso(this.inactiveSince),
      autoResume: { enabled: this.settings.autoResume, resumes: this.resumes, lastResumedAt: iso(this.lastResumedAt), notBefore: this.notBefore === 0 ? null : iso(this.notBefore) },
    };
  }

  /** One reading (and, when due, a resume). Never throws: a failure is the snapshot's problem. */
  async check(): Promise<void> {
    if (!this.deps.budgetAllows()) {
      this.deps.log.debug('log stream status: not read this time, Auth0\'s rate-limit bucket is kept for the poller');
      return;
    }
    let stream: LogStreamInfo | null;
    try {
      stream = this.stream === null
        ? await findOurStream(this.deps.api, { id: this.settings.id, name: DEFAULT_STREAM_NAME, token: this.settings.token })
        : await this.deps.api.get(this.stream.id);
    } catch (error) {
      this.fail(error instanceof MissingScopeError ? `${error.message} Until then the stream's status is not watched.` : `could not read the stream's status: ${(error as Error).message}`);
      return;
    }
    if (stream === null) {
      this.fail(`no log stream named "${DEFAULT_STREAM_NAME}" or sending LOG_STREAM_TOKEN in the tenant: create it with "stream setup --url https://<public host>/log-stream", or set LOG_STREAM_ID.`);
      return;
    }
    const now = this.deps.clock.now();
    this.stream = stream;
    this.checkedAt = now;
    this.problem = undefined;
    let resumed = false;
    if (stream.status === 'active') this.inactiveSince = null;
    else {
      this.inactiveSince ??= now;
      resumed = await this.resumeIfDue(now);
    }
    await this.decideAlerts(resumed);
  }

  private fail(problem: string): void {
    this.problem = problem;
    if (!this.warned.has(problem)) {
      this.warned.add(problem);
      this.deps.log.warn(`log stream status: ${problem}`);
    }
  }

  /** Sets the stream active when Papertrail has confirmed a send since the stream was seen stopped, and none failed after. */
  private async resumeIfDue(now: number): Promise<boolean> {
    const stream = this.stream;
    if (!this.settings.autoResume || stream === null || this.inactiveSince === null || now < this.notBefore) return false;
    const { lastConfirmedAt, lastFailedAt } = this.deps.sinkHealth();
    if (lastConfirmedAt === null || lastConfirmedAt < this.inactiveSince || (lastFailedAt !== null && lastFailedAt > lastConfirmedAt)) return false;
    try {
      this.stream = await this.deps.api.update(stream.id, { status: 'active' });
    } catch (error) {
      this.fail(`could not resume the ${stream.status} stream: ${(error as Error).message}`);
      return false;
    }
    // A stream that stops again soon is not resumed again at once: the next resume waits twice as long.
    this.resumes++;
    this.lastResumedAt = now;
    this.notBefore = now + this.resumeBackoffMs;
    this.resumeBackoffMs = Math.min(MAX_RESUME_BACKOFF_MS, this.resumeBackoffMs * 2);
    this.deps.log.info(`log stream ${stream.name} (${stream.id}) was ${stream.status}; Papertrail confirms deliveries again, so it was set active (LOG_STREAM_AUTO_RESUME; resume ${this.resumes})`);
    if (this.stream.status === 'active') this.inactiveSince = null;
    return true;
  }

  private async decideAlerts(resumedByService: boolean): Promise<void> {
    const stream = this.stream;
    if (stream === null) return;
    const facts = { status: stream.status, at: new Date(this.deps.clock.now()).toISOString(), stream: `"${stream.name}" (${stream.id})`, resumedByService, autoResume: this.settings.autoResume };
    let alerts: ReturnType<typeof decideStreamStatus>['alerts'] = [];
    try {
      // Decided on the written document: replicas sharing the state see each change once.
      await this.deps.store.update((state) => {
        const decision = decideStreamStatus(state.alerting, facts);
        alerts = decision.alerts;
        return { ...state, alerting: decision.next };
      });
    } catch (error) {
      this.deps.log.warn(`log stream status: could not record it: ${(error as Error).message}`);
      return;
    }
    if (alerts.length > 0 && this.deps.notifier) await deliverAlerts(alerts, this.deps.notifier, this.deps.log, this.deps.metrics);
    for (const alert of alerts) this.deps.log.info(`log stream ${facts.stream} is ${stream.status}${alert.kind === 'stream-active' && resumedByService ? ' (resumed by this service)' : ''}`);
  }
}
