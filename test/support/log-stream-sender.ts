/**
 * A simulated Auth0 log stream (Custom Webhook): what Auth0 does with a
 * stream's events, so `serve`'s POST /log-stream can be tested the way Auth0
 * will use it.
 *
 *   - Events are written in the stream's documented shape (Auth0's tenant-logs
 *     schema and sample records: `is_mobile`, `tenant_name`,
 *     `environment_name`, `$event_schema`, no `_id`, the sample's field order
 *     with `log_id` after the event's fields) and wrapped as
 *     `{"log_id", "data"}` records.
 *   - Batches of 1..maxBatch records, shuffled within the batch, in all three
 *     content formats: JSON array, JSON lines, and (one record per request)
 *     a JSON object.
 *   - 1 to maxInFlight requests in flight, the number changing as it goes.
 *   - Any non-2xx answer or network failure: the same request again after an
 *     exponential backoff with jitter, without limit (Auth0 keeps retrying,
 *     then pauses the stream; either way the batch is not given up here).
 *   - A fraction of the batches that were answered 2xx is sent again later,
 *     as Auth0's at-least-once delivery does.
 *   - Optionally drops a fraction of events altogether and pauses for a
 *     while, as a stream that is filtered, broken or paused does.
 *
 * Deterministic given its seed, except for timing.
 */
import { createPrng, type TenantEvent } from './events';

export type StreamContentFormat = 'json-array' | 'json-lines' | 'json-object';

// ------------------------------------------------------------ the stream's record, from Auth0's documentation
// Written from Auth0's tenant-logs schema (the catalog the stream follows) and its sample records, not
// from the exporter's normaliser: what Auth0 puts in `data` for an event the Management API would return.

/** The schema's fields every stream event carries. */
const REQUIRED_IN_STREAM = ['log_id', 'type', 'description', 'tenant_name', 'environment_name'] as const;
/**
 * Field order of Auth0's sample stream records (test/fixtures/auth0-log-stream-records.ndjson): the event's
 * fields first, then `log_id`, `is_mobile` and the stream's own fields. Fields the sample does not show
 * (audience, scope, location_info, …) come after the ones it does, in the event's order, before `log_id`.
 */
const SAMPLE_ORDER = ['date', 'type', 'description', 'connection', 'connection_id', 'client_id', 'client_name', 'ip', 'user_agent', 'details', 'hostname', 'user_id', 'user_name', 'strategy', 'strategy_type'];
/** Only the Management API carries these: `_id` (a copy of log_id) and `isMobile` (the stream spells it `is_mobile`). */
const API_ONLY = new Set(['log_id', '_id', 'isMobile']);
/** Only the stream carries these: the tenant and environment it came from, and the envelope's schema version. */
export const STREAM_TENANT = { tenant_name: 'simulated-tenant', environment_name: 'prod-us-1' } as const;
const EVENT_SCHEMA = { version: '1.0.0' } as const;

/** `event` (the Management API's copy) as Auth0's log stream carries it in a record's `data`. */
export function toStreamEvent(event: TenantEvent): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  for (const key of SAMPLE_ORDER) if (Object.hasOwn(event, key)) data[key] = event[key];
  for (const [key, value] of Object.entries(event)) if (!API_ONLY.has(key) && !Object.hasOwn(data, key)) data[key] = value;
  data['log_id'] = event.log_id;
  if (Object.hasOwn(event, 'isMobile')) data['is_mobile'] = event.isMobile;
  data['tenant_name'] = STREAM_TENANT.tenant_name;
  data['environment_name'] = STREAM_TENANT.environment_name;
  data['$event_schema'] = EVENT_SCHEMA;
  for (const field of REQUIRED_IN_STREAM) {
    // The schema requires it, so Auth0 never streams an event without it; a generated event lacking one would test nothing real.
    if (!Object.hasOwn(data, field)) throw new Error(`event ${event.log_id} lacks ${field}, which Auth0's stream schema requires`);
  }
  return data;
}

export function toStreamRecord(event: TenantEvent): { log_id: string; data: Record<string, unknown> } {
  return { log_id: event.log_id, data: toStreamEvent(event) };
}

export function encodeBatch(records: readonly unknown[], format: StreamContentFormat): string {
  if (format === 'json-array') return JSON.stringify(records);
  if (format === 'json-lines') return records.map((r) => JSON.stringify(r)).join('\n');
  if (records.length !== 1) throw new Error('the JSON object format carries one record per request');
  return JSON.stringify(records[0]);
}

export interface SenderAnswer {
  ids: string[];
  status: number;
  /** 1 for the first try of a request. */
  attempt: number;
  /** A batch sent again after it was answered 2xx. */
  resend: boolean;
  format: StreamContentFormat;
  /** Milliseconds from the request being sent to its answer. */
  latencyMs: number;
}

export interface SenderOptions {
  /** The full URL of POST /log-stream; with several (replicas behind one name), each request goes to the next. */
  url: string | readonly string[];
  /** The Authorization header, as entered in the stream's settings. */
  authorization: string;
  seed?: number;
  /** Default 100. */
  maxBatch?: number;
  /** Default 4. */
  maxInFlight?: number;
  /** Fraction of 2xx-answered batches sent again. Default 0.05. */
  resendFraction?: number;
  /** Fraction of batches also sent a second time at once, in parallel (a retry after a timeout while the first is still running). Default 0. */
  parallelCopyFraction?: number;
  /** Fraction of events never sent. Default 0. */
  dropFraction?: number;
  /** Fraction of batches sent in the JSON object format (one record each). Default 0.1. */
  objectShare?: number;
  backoff?: { initialMs: number; maxMs: number };
  /** How many of the events exist yet (the tenant's ingestion); a batch waits until all of its events do. Default: all. */
  available?: () => number;
  /** Stop sending for `ms` once the batches before event `atEvent` are taken. */
  pause?: { atEvent: number; ms: number };
  onAnswer?: (answer: SenderAnswer) => void;
  /** Gives up (rejects) after this long. Default 10 minutes. */
  timeoutMs?: number;
}

export interface SenderFigures {
  events: number;
  dropped: string[];
  batches: number;
  requests: number;
  retries: number;
  resends: number;
  byStatus: Record<number, number>;
  networkErrors: number;
  byFormat: Record<StreamContentFormat, number>;
}

interface Batch {
  events: TenantEvent[];
  /** Index of the batch's last event in the input, for `available`. */
  last: number;
  format: StreamContentFormat;
  resend: boolean;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function streamEvents(events: readonly TenantEvent[], options: SenderOptions): Promise<SenderFigures> {
  const rnd = createPrng(options.seed ?? 7);
  const maxBatch = options.maxBatch ?? 100;
  const maxInFlight = options.maxInFlight ?? 4;
  const backoff = options.backoff ?? { initialMs: 100, maxMs: 2_000 };
  const deadline = Date.now() + (options.timeoutMs ?? 600_000);
  const figures: SenderFigures = {
    events: events.length, dropped: [], batches: 0, requests: 0, retries: 0, resends: 0, byStatus: {}, networkErrors: 0,
    byFormat: { 'json-array': 0, 'json-lines': 0, 'json-object': 0 },
  };

  const queue: Batch[] = [];
  for (let i = 0; i < events.length; ) {
    const objectFormat = rnd() < (options.objectShare ?? 0.1);
    const size = objectFormat ? 1 : 1 + Math.floor(rnd() * maxBatch);
    const picked: TenantEvent[] = [];
    let last = i;
    for (; i < events.length && picked.length < size; i++) {
      last = i;
      const event = events[i] as TenantEvent;
      if (rnd() < (options.dropFraction ?? 0)) figures.dropped.push(event.log_id);
      else picked.push(event);
    }
    if (picked.length === 0) continue;
    const format: StreamContentFormat = objectFormat ? 'json-object' : rnd() < 0.5 ? 'json-array' : 'json-lines';
    queue.push({ events: picked, last, format, resend: false });
  }
  figures.batches = queue.length;

  const urls = typeof options.url === 'string' ? [options.url] : options.url;
  let turn = 0;
  const nextUrl = (): string => urls[turn++ % urls.length] as string;
  let limit = maxInFlight;
  let taken = 0;
  let pending = 0; // resends scheduled but not queued yet
  let inFlight = 0;
  let pauseUntil = 0;
  let pauseDone = options.pause === undefined;

  const shuffle = <T>(items: T[]): T[] => {
    for (let k = items.length - 1; k > 0; k--) {
      const j = Math.floor(rnd() * (k + 1));
      [items[k], items[j]] = [items[j] as T, items[k] as T];
    }
    return items;
  };

  const deliver = async (batch: Batch): Promise<void> => {
    const records = shuffle(batch.events.map(toStreamRecord));
    const body = encodeBatch(records, batch.format);
    const ids = batch.events.map((e) => e.log_id);
    figures.byFormat[batch.format]++;
    for (let attempt = 1; ; attempt++) {
      if (Date.now() > deadline) throw new Error('the simulated log stream timed out');
      figures.requests++;
      if (attempt > 1) figures.retries++;
      const sent = Date.now();
      let status = 0;
      try {
        const res = await fetch(nextUrl(), { method: 'POST', headers: { 'content-type': 'application/json', authorization: options.authorization }, body });
        await res.arrayBuffer();
        status = res.status;
        figures.byStatus[status] = (figures.byStatus[status] ?? 0) + 1;
      } catch {
        figures.networkErrors++;
      }
      if (status !== 0) options.onAnswer?.({ ids, status, attempt, resend: batch.resend, format: batch.format, latencyMs: Date.now() - sent });
      if (status >= 200 && status < 300) break;
      const wait = Math.min(backoff.maxMs, backoff.initialMs * 2 ** (attempt - 1));
      await sleep(wait / 2 + rnd() * (wait / 2));
    }
    if (!batch.resend && rnd() < (options.resendFraction ?? 0.05)) {
      figures.resends++;
      pending++;
      // Later, interleaved with new batches, as a redelivery is.
      setTimeout(() => {
        pending--;
        queue.push({ ...batch, resend: true });
      }, 200 + Math.floor(rnd() * 1_000));
    }
  };

  const worker = async (slot: number): Promise<void> => {
    for (;;) {
      if (Date.now() > deadline) throw new Error('the simulated log stream timed out');
      const next = queue[0];
      if (next === undefined) {
        if (pending === 0 && inFlight === 0) return;
        await sleep(20);
        continue;
      }
      if (slot >= limit || Date.now() < pauseUntil) {
        await sleep(10);
        continue;
      }
      if (!pauseDone && options.pause && !next.resend && next.last >= options.pause.atEvent) {
        pauseDone = true;
        pauseUntil = Date.now() + options.pause.ms;
        continue;
      }
      if (options.available && !next.resend && next.last >= options.available()) {
        await sleep(10);
        continue;
      }
      queue.shift();
      if (!next.resend && rnd() < (options.parallelCopyFraction ?? 0)) {
        figures.resends++;
        queue.unshift({ ...next, resend: true });
      }
      if (++taken % 20 === 0) limit = 1 + Math.floor(rnd() * maxInFlight);
      inFlight++;
      try {
        await deliver(next);
      } finally {
        inFlight--;
      }
    }
  };
  await Promise.all(Array.from({ length: maxInFlight }, (_, slot) => worker(slot)));
  return figures;
}
