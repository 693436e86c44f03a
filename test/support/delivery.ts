/**
 * Compares what a tenant holds with what the receiver got: the figures every
 * delivery test and the fault suite assert on.
 */
import logTypeCodes from '../fixtures/auth0-log-type-codes.json';
import type { TenantEvent } from './events';
import { rawFrameOf, type ReceivedMessage } from './rsyslog-receiver';

export interface DeliveryFigures {
  expected: number;
  delivered: number;
  missing: number;
  /** Extra copies beyond the first. */
  duplicates: number;
  /** Messages whose first copy arrived before an event that precedes it. */
  outOfOrder: number;
  /** Messages whose header or JSON does not match the source event (see bodyMismatch). */
  malformed: number;
  truncated: number;
  /** Messages whose raw frame carries the expected STRUCTURED-DATA (the token element, or `-` without a token). */
  expectedStructuredData: number;
  /** Largest frame received, in bytes, LF included. */
  largestFrameBytes: number;
  missingIds: string[];
  problems: string[];
}

interface ParsedMsg {
  log_id?: string;
  _truncated?: unknown;
  [key: string]: unknown;
}

export function checkDelivery(expected: readonly TenantEvent[], received: readonly ReceivedMessage[], options: { system?: string; program?: string; token?: string | null } = {}): DeliveryFigures {
  const system = options.system ?? 'auth0-logs';
  const program = options.program ?? 'auth0';
  const sd = structuredDataFor(options.token ?? null);
  let expectedStructuredData = 0;
  let largestFrameBytes = 0;
  const position = new Map<string, number>();
  expected.forEach((event, i) => position.set(event.log_id, i));
  const seen = new Map<string, number>();
  const problems: string[] = [];
  let duplicates = 0;
  let outOfOrder = 0;
  let malformed = 0;
  let truncated = 0;
  let lastPosition = -1;

  for (const message of received) {
    // rsyslog escapes control characters in `raw` as #ddd, so this can overstate a frame, never understate it.
    largestFrameBytes = Math.max(largestFrameBytes, Buffer.byteLength(message.raw) + 1);
    if (rawFrameOf(message.raw)?.structuredData === sd) expectedStructuredData++;
    let parsed: ParsedMsg;
    try {
      parsed = JSON.parse(message.msg) as ParsedMsg;
    } catch {
      malformed++;
      if (problems.length < 10) problems.push(`MSG is not JSON: ${message.msg.slice(0, 80)}`);
      continue;
    }
    const id = parsed.log_id;
    const at = id === undefined ? undefined : position.get(id);
    if (id === undefined || at === undefined) {
      malformed++;
      if (problems.length < 10) problems.push(`unexpected event ${String(id)}`);
      continue;
    }
    const count = (seen.get(id) ?? 0) + 1;
    seen.set(id, count);
    if (count > 1) {
      duplicates++;
      continue;
    }
    if (at < lastPosition) outOfOrder++;
    lastPosition = Math.max(lastPosition, at);

    const event = expected[at] as TenantEvent;
    const mismatch = headerMismatch(message, event, system, program, sd);
    let bodyProblem: string | undefined;
    if (parsed._truncated !== undefined) {
      truncated++;
      if (parsed['type'] !== event.type || parsed['date'] !== event.date) bodyProblem = 'truncated event lost its type or date';
    } else {
      bodyProblem = bodyMismatch(parsed, event);
    }
    if (mismatch || bodyProblem) {
      malformed++;
      if (problems.length < 10) problems.push(`${id}: ${mismatch ?? bodyProblem}`);
    }
  }
  const missingIds = expected.filter((e) => !seen.has(e.log_id)).map((e) => e.log_id);
  return {
    expected: expected.length,
    delivered: seen.size,
    missing: missingIds.length,
    duplicates,
    outOfOrder,
    malformed,
    truncated,
    expectedStructuredData,
    largestFrameBytes,
    missingIds: missingIds.slice(0, 20),
    problems,
  };
}

/**
 * What the MSG of an event must hold, whichever path shipped it (README, Real time: "formatted as the poller
 * formats the same event (the same header, the same fields and values): the stream's own fields (tenant_name,
 * environment_name, $event_schema) are left out, is_mobile becomes isMobile, and log_id and _id come first"):
 *   - `log_id` and `_id` first;
 *   - every field of the Management API's copy, with its value, and no other field: none of the fields Auth0's
 *     stream schema adds (`tenant_name`, `environment_name`, `$event_schema`), no `is_mobile`, nothing dropped
 *     (the schema's required `description` included).
 * Past log_id and _id the fields are compared as a set: Auth0 documents the field order of neither the API's
 * events nor the stream's (its sample records put `details` and `log_id` elsewhere than our tenant does), and the
 * README says the rest keeps the order Auth0 sent.
 */
const STREAM_ONLY_FIELDS = ['tenant_name', 'environment_name', '$event_schema', 'is_mobile'];

function bodyMismatch(parsed: ParsedMsg, event: TenantEvent): string | undefined {
  const source = JSON.parse(JSON.stringify(event)) as Record<string, unknown>;
  const leading = Object.keys(source).filter((k) => k === 'log_id' || k === '_id');
  const first = Object.keys(parsed).slice(0, leading.length);
  if (JSON.stringify(first) !== JSON.stringify(leading)) return `begins with ${first.join(', ')}, not ${leading.join(', ')}`;
  const streamOnly = STREAM_ONLY_FIELDS.filter((k) => Object.hasOwn(parsed, k));
  if (streamOnly.length > 0) return `carries the stream's own ${streamOnly.join(', ')}`;
  const missing = Object.keys(source).filter((k) => !Object.hasOwn(parsed, k));
  if (missing.length > 0) return `lacks ${missing.join(', ')}`;
  const extra = Object.keys(parsed).filter((k) => !Object.hasOwn(source, k));
  if (extra.length > 0) return `carries ${extra.join(', ')}, which the source event does not`;
  const differing = Object.keys(source).filter((k) => JSON.stringify(parsed[k]) !== JSON.stringify(source[k]));
  if (differing.length > 0) return `${differing.join(', ')} differ from the source event`;
  return undefined;
}

function headerMismatch(message: ReceivedMessage, event: TenantEvent, system: string, program: string, sd: string): string | undefined {
  if (message.hostname !== system) return `hostname ${message.hostname}`;
  if (message.appname !== program) return `app-name ${message.appname}`;
  if (message.msgid !== expectedMsgId(event.type)) return `msgid ${message.msgid} for type ${String(event.type)}`;
  // Read from the raw frame: rsyslog's parser would accept a broken element (see rawFrameOf).
  const frame = rawFrameOf(message.raw);
  if (frame?.structuredData !== sd) return `structured data ${frame === undefined ? '(not an RFC 5424 frame)' : frame.structuredData.slice(0, 60)}`;
  if (message.severity !== expectedSeverity(event.type)) return `severity ${message.severity} for type ${String(event.type)}`;
  if (message.facility !== 16) return `facility ${message.facility}`;
  const date = typeof event.date === 'string' ? new Date(event.date).toISOString() : '-';
  if (message.timestamp !== date) return `timestamp ${message.timestamp}, event date ${String(event.date)}`;
  return undefined;
}

// ------------------------------------------------------------ expectations written from the documentation
// None of these come from src/: they restate RFC 5424, the README's header table and Auth0's log type
// table (test/fixtures/auth0-log-type-codes.json), so a wrong header in the product cannot agree with itself.

/** README "what a message looks like": `[<PAPERTRAIL_TOKEN>@41058]` for a token destination, `-` otherwise. */
function structuredDataFor(token: string | null): string {
  return token ? `[${token}@41058]` : '-';
}

/** RFC 5424 §6.2.7: MSGID = NILVALUE / 1*32PRINTUSASCII (%d33-126); the README: the type code, cut to 32 characters. */
function expectedMsgId(type: unknown): string {
  if (typeof type !== 'string' || type.length === 0) return '-';
  for (let i = 0; i < type.length; i++) {
    const code = type.charCodeAt(i);
    if (code < 33 || code > 126) return '-';
  }
  return type.slice(0, 32);
}

/** README: critical → 2, error → 3, warning → 4, info → 6, debug → 7 (RFC 5424 severities). */
const SEVERITY_OF_LEVEL: Readonly<Record<number, number>> = { 4: 2, 3: 3, 2: 4, 1: 6, 0: 7 };
/** README: a type no table knows is sent as notice. */
const UNKNOWN_TYPE_SEVERITY = 5;
/**
 * Codes the original extension had no level for, which the suite's tenants generate: the level
 * README's rules give them ("approaching a rate limit" is a warning; "summaries and assessments" are info).
 */
const LEVEL_OF_NEW_CODE: Readonly<Record<string, number>> = { api_limit_warning: 2, pla: 1 };
const KNOWN_CODES: ReadonlyMap<string, number | null> = new Map(
  [...logTypeCodes.table2a, ...logTypeCodes.table2b].map((entry) => [entry.code, entry.extToolsLevel] as const),
);

function expectedSeverity(type: unknown): number {
  if (typeof type !== 'string' || !KNOWN_CODES.has(type)) return UNKNOWN_TYPE_SEVERITY;
  const level = KNOWN_CODES.get(type) ?? LEVEL_OF_NEW_CODE[type];
  if (level === undefined || level === null) throw new Error(`delivery check: no documented severity for type ${type}; add its level to LEVEL_OF_NEW_CODE`);
  return SEVERITY_OF_LEVEL[level] as number;
}
