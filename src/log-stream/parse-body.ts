/**
 * Log-stream stage 1: a request body → the events it carries.
 *
 * Auth0's Custom Webhook posts in the content format chosen for the stream
 * (JSON array, JSON lines or a single JSON object). The format is detected
 * from the body rather than from a header, because every format is sent as
 * `application/json`:
 *   - a body that parses as one JSON array: its elements;
 *   - a body that parses as one JSON object: that object;
 *   - otherwise one JSON object per non-empty line.
 * Anything else is rejected whole (400): nothing of a malformed body is
 * shipped, so Auth0 never counts part of it as delivered.
 *
 * Each record is `{"log_id": "…", "data": {…event…}}`; a bare event that
 * carries its own `log_id` is accepted as well.
 */
import { StreamBodyError } from '../errors';

export type StreamFormat = 'json-array' | 'json-object' | 'json-lines';

export interface RawRecord {
  /** The id the record carries (the event's own, else the wrapper's); undefined when it has none usable. */
  logId: string | undefined;
  /** The event as the stream sent it. */
  data: Record<string, unknown>;
  /** Position in the body, for stable ordering and messages. */
  position: number;
}

export interface ParsedBody {
  format: StreamFormat;
  records: RawRecord[];
}

/** Auth0 log ids are 56 digits; anything unlike an id (too long, other characters) is not used as one. */
const USABLE_LOG_ID = /^[A-Za-z0-9]{1,128}$/;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function usableId(value: unknown): string | undefined {
  return typeof value === 'string' && USABLE_LOG_ID.test(value) ? value : undefined;
}

function toRecord(value: unknown, position: number, where: string): RawRecord {
  if (!isObject(value)) throw new StreamBodyError(`${where} is not a JSON object; each record must be {"log_id": "…", "data": {…}}.`);
  const wrapped = isObject(value['data']) ? value['data'] : undefined;
  const data = wrapped ?? value;
  const logId = usableId(data['log_id']) ?? usableId(value['log_id']) ?? usableId(data['_id']);
  return { logId, data, position };
}

function tryParse(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

export function parseStreamBody(body: string): ParsedBody {
  const text = body.charCodeAt(0) === 0xfeff ? body.slice(1) : body;
  if (text.trim() === '') throw new StreamBodyError('The body is empty; expected log records as a JSON array, JSON lines or a JSON object.');

  const whole = tryParse(text);
  if (whole.ok) {
    if (Array.isArray(whole.value)) {
      return { format: 'json-array', records: whole.value.map((v, i) => toRecord(v, i, `Element ${i + 1} of the array`)) };
    }
    if (isObject(whole.value)) return { format: 'json-object', records: [toRecord(whole.value, 0, 'The body')] };
    throw new StreamBodyError('The body is JSON but neither an array nor an object of log records.');
  }

  const records: RawRecord[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line === '') continue;
    const parsed = tryParse(line);
    if (!parsed.ok) {
      throw new StreamBodyError(
        records.length === 0 && lines.length === 1
          ? 'The body is not JSON: expected a JSON array, JSON lines or a JSON object of log records.'
          : `Line ${i + 1} is not JSON: expected one JSON object per line (JSON lines), a JSON array or a JSON object.`,
      );
    }
    records.push(toRecord(parsed.value, records.length, `Line ${i + 1}`));
  }
  return { format: 'json-lines', records };
}
