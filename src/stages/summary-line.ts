/**
 * MESSAGE_FORMAT=summary: one short line a person can read in Papertrail's
 * event viewer, put before the event's JSON in MSG:
 *
 *   Failed Login (Incorrect Password) | failed | user j***@e***.com | ip 203.***.***.*** | client Storefront (SPA) | Wrong email or password. {"log_id":…}
 *
 * The type's name (from the log type table; the code for a type it lacks),
 * the outcome, the user, the IP address, the client and the description when
 * it says more than the name. It is built from the event as shipped, so
 * masked or hashed values stay so, and it never holds a "{": the JSON starts
 * at the first "{" of MSG, for anyone who reads it back.
 */
import type { Auth0Log } from '../auth0/auth0-log';
import { lookupLogType } from '../auth0/log-types';

const MAX_PART_CHARS = 80;
const MAX_DESCRIPTION_CHARS = 160;
const SEPARATOR = ' | ';

/** Line ends, other controls and "{" become spaces or "("; a long value is cut (never inside a surrogate pair). */
function readable(value: unknown, max: number): string | null {
  if (typeof value !== 'string' && typeof value !== 'number') return null;
  let text = String(value)
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ')
    .replace(/\{/g, '(')
    // A lone surrogate has no UTF-8 form; say so the same way on every path.
    .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD')
    .trim();
  if (text === '') return null;
  if (text.length > max) {
    let cut = max - 1;
    if (/[\uD800-\uDBFF]/.test(text[cut - 1] ?? '')) cut--;
    text = `${text.slice(0, cut)}…`;
  }
  return text;
}

export function outcomeOf(type: string | undefined): string {
  const info = type === undefined ? undefined : lookupLogType(type);
  if (info === undefined) return 'notice';
  if (info.category?.endsWith('-fail')) return 'failed';
  if (info.category?.endsWith('-success')) return 'success';
  return (['info', 'info', 'warning', 'failed', 'critical'] as const)[info.level];
}

export function summaryOf(log: Auth0Log): string {
  const type = typeof log.type === 'string' ? log.type : undefined;
  const name = (type === undefined ? undefined : lookupLogType(type)?.name) ?? `Event ${readable(type, MAX_PART_CHARS) ?? 'of no type'}`;
  const parts = [name, outcomeOf(type)];
  const user = readable(log['user_name'], MAX_PART_CHARS) ?? readable(log['user_id'], MAX_PART_CHARS);
  if (user !== null) parts.push(`user ${user}`);
  const ip = readable(log['ip'], MAX_PART_CHARS);
  if (ip !== null) parts.push(`ip ${ip}`);
  const client = readable(log['client_name'], MAX_PART_CHARS) ?? readable(log['client_id'], MAX_PART_CHARS);
  if (client !== null) parts.push(`client ${client}`);
  const description = readable(log.description, MAX_DESCRIPTION_CHARS);
  if (description !== null && description !== name) parts.push(description);
  return parts.join(SEPARATOR);
}
