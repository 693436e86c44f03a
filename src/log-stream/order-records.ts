/**
 * Log-stream stage 3: the order records are shipped in. Auth0 does not post
 * a stream's events in order ("we recommend implementing log sorting"), so
 * within one request they are shipped in `log_id` order, the order the poller
 * ships in. A record repeated within one request is shipped once; records
 * without a usable id follow, in the order received.
 */
import { compareLogIds } from '../storage/state';
import type { RawRecord } from './parse-body';

export interface OrderedRecords {
  /** One record per id, in log_id order. */
  withId: (RawRecord & { logId: string })[];
  withoutId: RawRecord[];
  /** Records dropped for repeating an id already in this request. */
  repeatedInRequest: number;
}

export function orderRecords(records: readonly RawRecord[]): OrderedRecords {
  const byId = new Map<string, RawRecord & { logId: string }>();
  const withoutId: RawRecord[] = [];
  let repeatedInRequest = 0;
  for (const record of records) {
    const { logId } = record;
    if (logId === undefined) withoutId.push(record);
    else if (byId.has(logId)) repeatedInRequest++;
    else byId.set(logId, { ...record, logId });
  }
  const withId = [...byId.values()].sort((a, b) => compareLogIds(a.logId, b.logId));
  return { withId, withoutId, repeatedInRequest };
}
