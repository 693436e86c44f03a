/**
 * The filter stage. Auth0 ignores every query parameter but `from` and
 * `take` in checkpoint mode, so filtering is necessarily client-side.
 *
 * Semantics, kept from the last version of the original extension so that
 * migrating users export the same set:
 *   - a log is exported when its type is listed in LOG_TYPES, OR its level is >= LOG_LEVEL;
 *   - when only one of the two is set, that one decides; when neither is set, everything is exported.
 * Unlike the original, a type missing from the table is never dropped for being
 * new: it passes every LOG_LEVEL threshold (see `levelOf`), and only an explicit
 * LOG_TYPES list without LOG_LEVEL leaves it out.
 */
import type { Auth0Log } from '../auth0/auth0-log';
import { lookupLogType, type LogLevel } from '../auth0/log-types';
import type { LogFilter } from '../config';

/**
 * The level of a type for filtering. Unknown types count as the highest
 * level so that a LOG_LEVEL threshold can never hide an event Auth0 added
 * after this release; they are shipped at syslog severity "notice".
 */
export const UNKNOWN_TYPE_FILTER_LEVEL: LogLevel = 4;

export function levelOf(type: string | undefined): LogLevel | undefined {
  return type === undefined ? undefined : lookupLogType(type)?.level;
}

export function isExported(log: Auth0Log, filter: LogFilter): boolean {
  const { minLevel, types } = filter;
  if (minLevel === null && types === null) return true;
  const type = typeof log.type === 'string' ? log.type : undefined;
  if (types !== null && type !== undefined && types.has(type)) return true;
  if (minLevel !== null) return (levelOf(type) ?? UNKNOWN_TYPE_FILTER_LEVEL) >= minLevel;
  return false;
}

export function filterLogs(logs: readonly Auth0Log[], filter: LogFilter): Auth0Log[] {
  return logs.filter((log) => isExported(log, filter));
}
