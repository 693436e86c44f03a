/**
 * Compares what a tenant holds with what the receiver got: the figures every
 * delivery test and the fault suite assert on.
 */
import { msgIdOf, severityOf, structuredDataOf } from '../../src/stages/format-log';
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
  /** Messages whose header or JSON does not match the source event. */
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
  const sd = structuredDataOf({ system, program, token: options.token ?? null });
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
    let bodyOk: boolean;
    if (parsed._truncated !== undefined) {
      truncated++;
      bodyOk = parsed['type'] === event.type && parsed['date'] === event.date;
    } else {
      bodyOk = JSON.stringify(parsed) === JSON.stringify(JSON.parse(JSON.stringify(event)));
    }
    if (mismatch || !bodyOk) {
      malformed++;
      if (problems.length < 10) problems.push(`${id}: ${mismatch ?? 'JSON differs from the source event'}`);
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

function headerMismatch(message: ReceivedMessage, event: TenantEvent, system: string, program: string, sd: string): string | undefined {
  if (message.hostname !== system) return `hostname ${message.hostname}`;
  if (message.appname !== program) return `app-name ${message.appname}`;
  if (message.msgid !== msgIdOf(event.type)) return `msgid ${message.msgid} for type ${String(event.type)}`;
  // Read from the raw frame: rsyslog's parser would accept a broken element (see rawFrameOf).
  const frame = rawFrameOf(message.raw);
  if (frame?.structuredData !== sd) return `structured data ${frame === undefined ? '(not an RFC 5424 frame)' : frame.structuredData.slice(0, 60)}`;
  if (message.severity !== severityOf(event.type)) return `severity ${message.severity} for type ${String(event.type)}`;
  if (message.facility !== 16) return `facility ${message.facility}`;
  const date = typeof event.date === 'string' ? new Date(event.date).toISOString() : '-';
  if (message.timestamp !== date) return `timestamp ${message.timestamp}, event date ${String(event.date)}`;
  return undefined;
}
