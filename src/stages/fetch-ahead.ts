/**
 * Fetch ahead: at most one request to Auth0 is in flight, started while the
 * previous page is still being formatted and shipped, so fetching never waits
 * for the receiver. The run owns one FetchAhead; `abort` ends whatever request
 * is still going when the run is over, and losing the lease aborts it at once.
 */
import type { Auth0LogsClient, Clock } from '../ports';
import type { RunLease } from '../storage/run-lease';
import { fetchLogs, type FetchedPage } from './fetch-logs';

/** Do not start a page unless this much time is left, or twice the slowest shipment so far. */
const MIN_PAGE_BUDGET_MS = 1_000;

export interface FetchAheadOptions {
  take: number;
  /** Requests and waits stop here. */
  deadline: number;
  clock: Clock;
}

export class FetchAhead {
  // Aborted when the run ends, so that a page fetched ahead and no longer wanted
  // (the run failed, or stopped) does not go on retrying after the run is over.
  private readonly fetching = new AbortController();
  private pending: Promise<FetchedPage> | null = null;

  constructor(private readonly auth0: Auth0LogsClient, private readonly options: FetchAheadOptions, lease?: RunLease) {
    lease?.signal.addEventListener('abort', () => this.fetching.abort(lease.lost), { once: true });
  }

  /** Whether a request is in flight (none means the run had no time left to start one). */
  get waiting(): boolean {
    return this.pending !== null;
  }

  /** Starts the request for the page after `from`. */
  request(from: string): void {
    this.pending = fetchLogs(this.auth0, { from, take: this.options.take, deadline: this.options.deadline, signal: this.fetching.signal });
    this.pending.catch(() => undefined); // surfaced when awaited
  }

  /** Starts the next request if the run has time for another page, given its slowest shipment so far. */
  ahead(from: string, slowestShipMs: number): void {
    if (this.options.clock.now() + Math.max(MIN_PAGE_BUDGET_MS, 2 * slowestShipMs) < this.options.deadline) this.request(from);
  }

  /** The page requested last; throws what its request threw (Auth0 failed, or the time is up). */
  async next(): Promise<FetchedPage> {
    if (this.pending === null) throw new Error('FetchAhead.next() called with no request in flight');
    const page = await this.pending;
    this.pending = null;
    return page;
  }

  /** Whether the request in flight settles (either way) within `ms`; never rejects. */
  async settlesWithin(ms: number): Promise<boolean> {
    const pending = this.pending;
    if (pending === null) return true;
    if (ms <= 0) return false;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    });
    try {
      return await Promise.race([pending.then(() => true, () => true), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  abort(): void {
    this.fetching.abort();
  }
}
