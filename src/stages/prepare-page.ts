/**
 * Filter → format for one fetched page: what it brings to a shipment. Its
 * fresh ids are held (see skip-shipped.ts) until the shipment is recorded or
 * given up, so that a log stream delivering the same ids waits.
 */
import type { Config } from '../config';
import type { ShippedIds } from '../ports';
import type { FetchedPage } from './fetch-logs';
import { filterLogs } from './filter-logs';
import type { PageOutcome } from './group-pages';
import { formatLogs } from './ship-logs';
import { skipShipped } from './skip-shipped';

export async function preparePage(page: FetchedPage, shipped: ShippedIds | undefined, config: Config): Promise<PageOutcome> {
  const filtered = filterLogs(page.logs, config.filter);
  const unshipped = await skipShipped(shipped, filtered);
  const formatted = formatLogs(unshipped.fresh, config.papertrail);
  return { lastId: page.lastId, fetched: page.logs.length, filteredOut: page.logs.length - filtered.length, unshipped, formatted };
}
