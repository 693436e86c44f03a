/**
 * Log-stream stage 2: an event in the log stream's shape → the Management
 * API's shape, so that a delivery and a poller page format the same event to
 * the same RFC 5424 line (and a reader in Papertrail cannot tell which path
 * shipped it).
 *
 * The stream's schema (Auth0's tenant-logs catalog) differs from
 * `GET /api/v2/logs` in a few fields:
 *   - `is_mobile` is the API's `isMobile`;
 *   - `$event_schema`, `tenant_name` and `environment_name` exist only in the
 *     stream: the first describes the envelope, the other two are the same for
 *     every event of the tenant (Papertrail's system name says which tenant);
 *   - the API carries `_id`, equal to `log_id`, right after it.
 * Every other field is kept as sent, in the order sent, with `log_id` first as
 * the API puts it.
 *
 * An event without any usable `log_id` is shipped anyway, marked, since it
 * cannot be deduplicated: dropping it would lose it.
 */
import type { Auth0Log } from '../auth0/auth0-log';
import type { RawRecord } from './parse-body';

const STREAM_ONLY_FIELDS = new Set(['$event_schema', 'tenant_name', 'environment_name']);
// A Map, not an object: a field named "__proto__" must not find Object.prototype here.
const RENAMED: ReadonlyMap<string, string> = new Map([['is_mobile', 'isMobile']]);

/** The marker added to an event delivered without a log_id. */
export const MISSING_LOG_ID_MARK = '_missing_log_id';

export function normalizeStreamEvent(record: RawRecord): Auth0Log {
  const { data, logId } = record;
  const event: Record<string, unknown> = {};
  if (logId !== undefined) {
    event['log_id'] = logId;
    event['_id'] = typeof data['_id'] === 'string' ? data['_id'] : logId;
  }
  for (const [key, value] of Object.entries(data)) {
    if (key === 'log_id' || key === '_id') {
      // A log_id or _id that was not usable as an id is kept under its name, as sent.
      if (logId === undefined) event[key] = value;
      continue;
    }
    if (STREAM_ONLY_FIELDS.has(key)) continue;
    const name = RENAMED.get(key) ?? key;
    // An event carrying both spellings keeps the API's.
    if (name !== key && Object.hasOwn(data, name)) continue;
    // JSON.parse makes "__proto__" an own field; plain assignment would set the prototype instead.
    if (name === '__proto__') Object.defineProperty(event, name, { value, enumerable: true, writable: true, configurable: true });
    else event[name] = value;
  }
  if (logId === undefined) event[MISSING_LOG_ID_MARK] = true;
  return event as Auth0Log;
}
