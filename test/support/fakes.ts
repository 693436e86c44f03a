/** In-memory fakes of the ports, for testing the core without I/O. */
import type { Auth0Log } from '../../src/auth0/auth0-log';
import type { Alert } from '../../src/alerts/alert-rules';
import type { Auth0LogsClient, Clock, LogSink, LogsPage, LogsQuery, Logger, Notifier, NotifyOutcome, ShippedIds, StateStore } from '../../src/ports';
import { LeaseLostError } from '../../src/errors';
import { emptyState, type StateDocument } from '../../src/storage/state';
import { compareIds } from './events';

export class MemoryStore implements StateStore {
  writes = 0;
  constructor(public state: StateDocument = emptyState()) {}
  async read(): Promise<StateDocument> {
    return structuredClone(this.state);
  }
  async update(change: (current: StateDocument) => StateDocument): Promise<StateDocument> {
    this.state = change(structuredClone(this.state));
    this.writes++;
    return structuredClone(this.state);
  }
}

export class MemoryShippedIds implements ShippedIds {
  readonly shippedAt = new Map<string, number>();
  /** The state whose lease generation a fenced write is checked against, as the database stores check theirs. */
  constructor(private readonly fencedBy?: MemoryStore) {}
  async record(ids: readonly string[], at: number, fence?: number): Promise<void> {
    if (fence !== undefined && this.fencedBy && this.fencedBy.state.leaseGeneration !== fence) throw new LeaseLostError('refused: stale lease generation');
    for (const id of ids) if (!this.shippedAt.has(id)) this.shippedAt.set(id, at);
  }
  async alreadyShipped(ids: readonly string[]): Promise<Set<string>> {
    return new Set(ids.filter((id) => this.shippedAt.has(id)));
  }
  async prune(before: number): Promise<number> {
    let forgotten = 0;
    for (const [id, at] of this.shippedAt) {
      if (at < before) {
        this.shippedAt.delete(id);
        forgotten++;
      }
    }
    return forgotten;
  }
}

/** Serves a fixed, id-ordered list in checkpoint mode, like the Management API. */
export class FakeAuth0 implements Auth0LogsClient {
  requests: { from: string; take: number }[] = [];
  /** The signal each request was made with, by request. */
  signals: (AbortSignal | undefined)[] = [];
  failOnRequest = new Map<number, Error>();
  constructor(public logs: Auth0Log[]) {}
  async getLogs(query: LogsQuery): Promise<LogsPage> {
    this.requests.push({ from: query.from, take: query.take });
    this.signals.push(query.signal);
    const failure = this.failOnRequest.get(this.requests.length);
    if (failure) throw failure;
    const newer = this.logs.filter((log) => compareIds(String(log.log_id), query.from) > 0);
    return { logs: newer.slice(0, query.take) };
  }
}

export class RecordingSink implements LogSink {
  pages: string[][] = [];
  closed = 0;
  failOnPage = new Map<number, Error>();
  failOnClose: Error | undefined;
  private sends = 0;
  async send(lines: readonly string[]): Promise<void> {
    if (lines.length === 0) return;
    this.sends++;
    const failure = this.failOnPage.get(this.sends);
    if (failure) throw failure;
    this.pages.push([...lines]);
  }
  async close(): Promise<void> {
    this.closed++;
    const failure = this.failOnClose;
    this.failOnClose = undefined;
    if (failure) throw failure;
  }
  get lines(): string[] {
    return this.pages.flat();
  }
}

export class FakeClock implements Clock {
  constructor(public current = Date.parse('2026-11-23T12:00:00.000Z')) {}
  now(): number {
    return this.current;
  }
  async sleep(ms: number): Promise<void> {
    this.current += Math.max(0, ms);
  }
}

export class CapturingLogger implements Logger {
  lines: string[] = [];
  debug(m: string): void { this.lines.push(`debug ${m}`); }
  info(m: string): void { this.lines.push(`info ${m}`); }
  warn(m: string): void { this.lines.push(`warn ${m}`); }
  error(m: string): void { this.lines.push(`error ${m}`); }
}

/** A valid-looking 56-digit log id whose order follows `n`. */
export function logId(n: number): string {
  return `90020261123120000${String(n).padStart(39, '0')}`;
}

export function makeLogs(count: number, types: readonly string[] = ['s', 'f', 'sapi']): Auth0Log[] {
  return Array.from({ length: count }, (_, i) => ({
    log_id: logId(i + 1),
    date: new Date(Date.parse('2026-11-23T11:00:00.000Z') + i * 1000).toISOString(),
    type: types[i % types.length] ?? 's',
    description: `event ${i + 1}`,
  }));
}

/** Records every alert; `outcome` decides what each delivery reports. */
export class RecordingNotifier implements Notifier {
  alerts: Alert[] = [];
  outcome: NotifyOutcome = { delivered: true, attempts: 1 };
  async notify(alert: Alert): Promise<NotifyOutcome> {
    this.alerts.push(alert);
    return this.outcome;
  }
  kinds(): string[] {
    return this.alerts.map((a) => a.kind);
  }
}
