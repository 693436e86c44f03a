/**
 * Pages fetched in a run gather into shipments: the lines the sink confirms
 * at once, and the one checkpoint saved after them.
 *
 * Why shipments of several pages: confirming costs a TLS connection
 * (handshake, close, and the receiver's own work per connection) plus a state
 * write. Per page of 100 logs that was two thirds of the CPU of an
 * unthrottled drain; per shipment of 10 pages it is a tenth of that, but a
 * crash then re-ships up to 1,000 logs. So shipments are adaptive (see
 * run-once.ts): while a backlog drains (a full page, the next one on its
 * way), pages gather up to PAGES_PER_SHIPMENT (10 by default), waiting at
 * most maxWaitMs for the next; caught up, a page ships at once. So a crash
 * re-ships one page when caught up, and at most one shipment while draining.
 *
 * Whether the receiver is still busy with the previous shipment does not
 * matter: gathering only then made the shipment size, and with it the CPU
 * per log, depend on which side was faster at the moment (40 to 55 µs per
 * log for the same drain, between two invocations on one machine).
 */
import type { Config } from '../config';
import type { FormattedPage } from './ship-logs';
import type { UnshippedPage } from './skip-shipped';

/** How many fetched pages are confirmed together. */
export interface GroupLimits {
  /** At most this many pages per confirmation. */
  pages: number;
  /** At most about this many UTF-16 units of lines (bounds memory when events are large). */
  chars: number;
  /** A page waits at most this long for the next one before its group ships (the next fetch may be held by the rate limit). */
  maxWaitMs: number;
}

/** A shipment's bounds besides its page count, which is PAGES_PER_SHIPMENT. */
export const SHIPMENT_BOUNDS: Omit<GroupLimits, 'pages'> = { chars: 4 * 1024 * 1024, maxWaitMs: 1_000 };

export function groupLimitsFor(config: Config): GroupLimits {
  return { pages: config.pagesPerShipment, ...SHIPMENT_BOUNDS };
}

export interface Group {
  lines: string[];
  /** The log ids of the exported logs, recorded as shipped once the group is no longer in doubt. */
  ids: string[];
  /** The ids its pages hold (see `skipShipped`), released once recorded or given up. */
  held: string[];
  chars: number;
  pages: number;
  fetched: number;
  filteredOut: number;
  /** Logs left out because they were recorded as shipped. */
  alreadyShipped: number;
  truncated: number;
  lastId: string;
  newestDate: string | null;
  /** When its first page arrived. */
  since: number;
}

/** What one fetched page brings to a group, after each per-page stage. */
export interface PageOutcome {
  lastId: string;
  fetched: number;
  filteredOut: number;
  unshipped: UnshippedPage;
  formatted: FormattedPage;
}

/** Adds a page to `group` (a new group, begun at `now`, when null) and returns it. */
export function addPage(group: Group | null, page: PageOutcome, now: number): Group {
  const into = group ?? { lines: [], ids: [], held: [], chars: 0, pages: 0, fetched: 0, filteredOut: 0, alreadyShipped: 0, truncated: 0, lastId: page.lastId, newestDate: null, since: now };
  for (const line of page.formatted.lines) {
    into.lines.push(line);
    into.chars += line.length + 1;
  }
  for (const id of page.unshipped.ids) into.ids.push(id);
  for (const id of page.unshipped.held) into.held.push(id);
  into.pages++;
  into.fetched += page.fetched;
  into.filteredOut += page.filteredOut;
  into.alreadyShipped += page.unshipped.alreadyShipped;
  into.truncated += page.formatted.truncated;
  into.lastId = page.lastId;
  into.newestDate = newer(into.newestDate, page.formatted.newestDate);
  return into;
}

/** Whether a group has reached either of its size limits. */
export function isFull(group: Group, limits: GroupLimits): boolean {
  return group.pages >= limits.pages || group.chars >= limits.chars;
}

/** The later of two event dates, either of which may be unknown. */
export function newer(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return Date.parse(b) > Date.parse(a) ? b : a;
}
