/**
 * The format stage: one Auth0 event → one RFC 5424 syslog line.
 *
 *   <PRI>1 TIMESTAMP HOSTNAME APP-NAME - MSGID STRUCTURED-DATA MSG
 *
 * - PRI = facility local0 (16) * 8 + severity from the event's level.
 * - TIMESTAMP = the event's own `date` (UTC, milliseconds), not the send time.
 * - HOSTNAME = PAPERTRAIL_SYSTEM, APP-NAME = PAPERTRAIL_PROGRAM (validated in config).
 * - MSGID = the log type code, cut to RFC 5424's 32 characters.
 * - STRUCTURED-DATA = `[<token>@41058]` for a token destination (Papertrail's
 *   ingestion token as the SD-ID, under Loggly's enterprise number, as
 *   Papertrail's own sender writes it), else `-`.
 * - MSG = the whole event as compact JSON, after OMIT_FIELDS and PII_FIELDS
 *   (`shapeEvent`); with MESSAGE_FORMAT=summary, one readable line first.
 *
 * Framing is one line per message (LF), as Papertrail's own sender uses, so
 * no byte of MSG may end a line: see `toSafeJson`. Papertrail accepts at most
 * 100,000 bytes per message over TCP; `formatLog` never returns more.
 */
import type { Auth0Log } from '../auth0/auth0-log';
import { logIdOf } from '../auth0/auth0-log';
import { levelOf } from './filter-logs';
import { omitFields, type OmitPath } from './omit-fields';
import { protectPersonalData, type PersonalDataProtector, type PiiSettings } from './personal-data';
import { summaryOf } from './summary-line';

export type MessageFormat = 'json' | 'summary';

/** What of an event leaves the process, and how it reads: OMIT_FIELDS, PII_*, MESSAGE_FORMAT. */
export interface MessageSettings {
  format: MessageFormat;
  /** OMIT_FIELDS, each path split at its dots. */
  omit: readonly OmitPath[];
  /** null when PII_FIELDS is empty. */
  pii: PiiSettings | null;
}

export interface FormatOptions {
  system: string;
  program: string;
  /** Ingestion token of a token destination (validated in config); null or absent for a legacy destination. */
  token?: string | null;
  /** Absent: the whole event as JSON, as before these settings existed. */
  message?: MessageSettings;
}

/** Loggly's private enterprise number: the SD-ID suffix Papertrail's collectors read the token from. */
export const TOKEN_SD_ENTERPRISE = 41058;

export interface FormattedLog {
  /** The frame without its trailing LF. */
  line: string;
  truncated: boolean;
}

/** Papertrail's TCP message limit; the frame including its LF stays within it. */
export const MAX_FRAME_BYTES = 100_000;
export const FACILITY_LOCAL0 = 16;
/** critical→2, error→3, warning→4, info→6, debug→7; unknown types → notice (5). */
const SEVERITY_BY_LEVEL = [7, 6, 4, 3, 2] as const;
export const SEVERITY_UNKNOWN_TYPE = 5;
/** Each kept string of a truncated event is cut to this many UTF-16 units (≤ 6 bytes each once escaped). */
const TRUNCATED_FIELD_CHARS = 1024;
const KEPT_WHEN_TRUNCATED = ['log_id', 'date', 'type', 'description', 'user_id', 'user_name', 'client_id', 'client_name'] as const;

export function severityOf(type: string | undefined): number {
  const level = levelOf(type);
  return level === undefined ? SEVERITY_UNKNOWN_TYPE : SEVERITY_BY_LEVEL[level];
}

/**
 * JSON that cannot break LF framing and is valid UTF-8.
 * JSON.stringify already escapes C0 controls (so CR, LF and NUL) and, since
 * ES2019, lone surrogates. It leaves U+2028, U+2029 and U+0085 raw, which some
 * readers treat as line ends, so those are escaped too.
 */
const RAW_LINE_SEPARATORS = /[\u0085\u2028\u2029]/;

export function toSafeJson(value: unknown): string {
  const json = JSON.stringify(value) ?? 'null';
  // Nearly every event has none; testing first avoids building a new string.
  if (!RAW_LINE_SEPARATORS.test(json)) return json;
  return json.replace(/[\u0085\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function timestampOf(date: unknown): string {
  if (typeof date !== 'string') return '-';
  const ms = Date.parse(date);
  // RFC 5424 allows a four-digit year only.
  if (Number.isNaN(ms) || ms < -62_135_596_800_000 || ms > 253_402_300_799_999) return '-';
  return new Date(ms).toISOString();
}

/** RFC 5424: MSGID = 1*32PRINTUSASCII. */
const MAX_MSGID_CHARS = 32;

/**
 * The type as MSGID. A longer type (Auth0 has some, e.g.
 * oidc_backchannel_logout_succeeded) is cut to its first 32 characters
 * rather than sent as the NILVALUE: a prefix still finds the type in a
 * search, and the full type is in MSG. A type that is not printable ASCII
 * (never a real one) becomes the NILVALUE.
 */
export function msgIdOf(type: unknown): string {
  return typeof type === 'string' && /^[\x21-\x7e]+$/.test(type) ? type.slice(0, MAX_MSGID_CHARS) : '-';
}

/** STRUCTURED-DATA: the token element, or the NILVALUE. */
export function structuredDataOf(options: FormatOptions): string {
  return options.token ? `[${options.token}@${TOKEN_SD_ENTERPRISE}]` : '-';
}

function header(log: Auth0Log, options: FormatOptions): string {
  const type = typeof log.type === 'string' ? log.type : undefined;
  const pri = FACILITY_LOCAL0 * 8 + severityOf(type);
  return `<${pri}>1 ${timestampOf(log.date)} ${options.system} ${options.program} - ${msgIdOf(log.type)} ${structuredDataOf(options)} `;
}

/**
 * A kept field, bounded. Auth0 sends strings in these fields; anything else is
 * kept as a short text, and a structure nested too deeply even to print as
 * text (String() of nested arrays recurses) is named instead of printed, so
 * that the cut-down form of a hostile event can always be built.
 */
function keptValue(value: unknown): string | number | boolean {
  if (typeof value === 'string') return value.slice(0, TRUNCATED_FIELD_CHARS);
  if (typeof value === 'number' || typeof value === 'boolean') return value;
  try {
    return String(value).slice(0, TRUNCATED_FIELD_CHARS);
  } catch {
    return `[${Array.isArray(value) ? 'array' : typeof value} nested too deeply to print]`;
  }
}

/**
 * The deterministic cut-down form of an oversized event: the fields a reader
 * needs to find the event in Auth0 (ids, date, type, description, user and
 * client), each cut to a bounded length, plus a marker saying what was dropped.
 */
export function truncateEvent(log: Auth0Log, originalBytes: number, reason = 'event larger than Papertrail accepts'): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  for (const key of KEPT_WHEN_TRUNCATED) {
    const value = log[key];
    if (value === undefined || value === null) continue;
    kept[key] = keptValue(value);
  }
  if (kept['log_id'] === undefined) {
    const id = logIdOf(log);
    if (id !== undefined) kept['log_id'] = id.slice(0, TRUNCATED_FIELD_CHARS);
  }
  const dropped = Object.keys(log).filter((key) => !(KEPT_WHEN_TRUNCATED as readonly string[]).includes(key));
  kept['_truncated'] = { reason, ...(Number.isNaN(originalBytes) ? {} : { original_bytes: originalBytes }), dropped_fields: dropped.slice(0, 50).map((key) => key.slice(0, 64)) };
  return kept;
}

// One protector per settings object: it holds the pseudonym cache.
const protectors = new WeakMap<PiiSettings, PersonalDataProtector>();

/**
 * The event as it may leave the process: OMIT_FIELDS dropped first (less to
 * search), then PII_FIELDS masked or hashed. Filters have already seen the
 * original; the header's type and date are never changed by either.
 */
export function shapeEvent(log: Auth0Log, message: MessageSettings | undefined): Auth0Log {
  if (message === undefined) return log;
  let shaped = message.omit.length === 0 ? log : omitFields(log, message.omit);
  if (message.pii !== null) {
    let protect = protectors.get(message.pii);
    if (protect === undefined) {
      protect = protectPersonalData(message.pii);
      protectors.set(message.pii, protect);
    }
    shaped = protect(shaped);
  }
  return shaped;
}

export function formatLog(original: Auth0Log, options: FormatOptions): FormattedLog {
  const log = shapeEvent(original, options.message);
  const summary = options.message?.format === 'summary' ? `${summaryOf(log)} ` : '';
  const head = header(log, options) + summary;
  let json: string;
  try {
    json = toSafeJson(log);
  } catch {
    // Nested deeper than the stack allows (JSON.parse accepts what stringify cannot):
    // ship the identifying fields rather than block the export at this event forever.
    return { line: head + toSafeJson(truncateEvent(log, Number.NaN, 'event nested too deeply to serialize')), truncated: true };
  }
  // Fast path: a JS string of n UTF-16 units is at most 3n UTF-8 bytes.
  if ((head.length + json.length) * 3 + 1 <= MAX_FRAME_BYTES) return { line: head + json, truncated: false };
  const bytes = Buffer.byteLength(head) + Buffer.byteLength(json) + 1;
  if (bytes <= MAX_FRAME_BYTES) return { line: head + json, truncated: false };
  return { line: head + toSafeJson(truncateEvent(log, bytes)), truncated: true };
}
