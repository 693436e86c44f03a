/**
 * A simulated Auth0 tenant: the token endpoint and `GET /api/v2/logs` in
 * checkpoint mode, over real HTTPS on 127.0.0.1, following the documented API
 * (Auth0's "Retrieve log events using the Management API" page): `from` is
 * exclusive, pages are in log_id order, `Link rel="next"` carries the next
 * checkpoint (or repeats the request URL when the page is empty),
 * `x-ratelimit-*` headers describe a token bucket, and 429/5xx/401 bodies have
 * Auth0's shape.
 *
 * Where the documentation leaves a choice, the tenant takes one a client could
 * not have guessed from its own code: the next URL puts `take` before `from`
 * (a client that builds its URL instead of following `Link` shows in
 * `stats().followedLinks`); `x-ratelimit-reset` can be read either way the
 * wording allows (`resetMeans`); a 429 carries `Retry-After`; and tokens can be
 * made to expire while an export runs (`expireTokensEvery`).
 *
 * It also has Auth0's log-streams endpoints (list, get, create, patch, delete;
 * each with its scope, 403 `insufficient_scope` without it) and sends each
 * Custom Webhook stream's events itself, as Auth0 does: from the stream's
 * creation on, in its content format with its Authorization value; a stream
 * whose deliveries keep failing is paused and later suspended, its events
 * queued until it is set active again (see StreamDeliveryOptions).
 *
 * The log is a list of segments: lazy ones computed on demand by `eventAt`
 * (so a million-event tenant costs no memory) and explicit arrays. Segments
 * only ever grow at the end with ids above every earlier id, as Auth0's log does.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse, OutgoingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { createTestPki, type TestPki } from './certs';
import {
  compareIds,
  createPrng,
  eventAt,
  logIdAt,
  logIdSecond,
  type GenerateOptions,
  type TenantEvent,
} from './events';
import { encodeBatch, toStreamRecord, type StreamContentFormat } from './log-stream-sender';

export type TenantFault = 'malformed-json' | 'html' | 'non-array' | 'missing-log-id' | 'forbidden' | null;

export interface FakeTenantOptions extends GenerateOptions {
  /** The initial log, used as given (sorted by log_id). Takes precedence over `count`. */
  events?: readonly TenantEvent[];
  /** The initial log as `count` lazily generated events (see GenerateOptions). Default 0. */
  count?: number;
  clientId?: string;
  clientSecret?: string;
  /** Lifetime of issued tokens; fractions are allowed (tests of expiry). Default 86400. */
  tokenTtlSeconds?: number;
  /** Token bucket for the logs endpoint. Absent: unlimited (headers still sent, with a large limit). */
  rateLimit?: { limit: number; refillPerSecond: number };
  /**
   * What `x-ratelimit-reset` names. Auth0: "UNIX timestamp, in seconds, of the expected time when
   * additional requests will be added to the bucket": the second the next request is added
   * ('next-token', the default), or the second the bucket is whole again ('bucket-full').
   */
  resetMeans?: 'next-token' | 'bucket-full';
  /** Every n-th logs request finds every token issued so far expired (401 with Auth0's body), as a token
   * revoked or expired early under a running export would. 0 or absent: never. */
  expireTokensEvery?: number;
  /** Fraction (0..1) of logs requests answered 500/502/503, drawn from a PRNG seeded by `seed`. */
  failureRate?: number;
  /** Delay before every response. */
  latencyMs?: number | (() => number);
  fault?: TenantFault;
  /** Scopes granted to the client (in tokens issued from now on). Default: read:logs only, as the exporter needs. */
  scopes?: readonly string[];
  /** How the tenant delivers its log streams (see LogStreamDelivery). */
  streamDelivery?: StreamDeliveryOptions;
  /** Server certificate; default: the localhost certificate of a fresh test PKI. Pass `ca`/`caFile` with it. */
  cert?: string;
  key?: string;
  ca?: string;
  caFile?: string;
}

/** Every log-streams scope, with read:logs. */
export const ALL_LOG_STREAM_SCOPES: readonly string[] = ['read:logs', 'read:log_streams', 'create:log_streams', 'update:log_streams', 'delete:log_streams'];

/** A log stream as the Management API shows it (GET /api/v2/log-streams). */
export interface TenantLogStream {
  id: string;
  name: string;
  type: string;
  status: LogStreamStatus;
  sink: Record<string, unknown>;
  filters?: unknown[];
  isPriority?: boolean;
}

export type LogStreamStatus = 'active' | 'paused' | 'suspended';

/**
 * The tenant as a stream's sender: Auth0 pauses a stream whose deliveries
 * keep failing, and suspends it later (days in Auth0; here milliseconds, so a
 * test can watch it happen). Events are queued, never dropped, while it is
 * not active, and delivered from the first undelivered one once it is active again.
 */
export interface StreamDeliveryOptions {
  /** Records per request, at most. Default 20. */
  maxBatch?: number;
  /** Wait after a failed request before the next try. Default 200. */
  retryMs?: number;
  /** Failing continuously this long pauses the stream. Default 2000. */
  pauseAfterMs?: number;
  /** Failing continuously this long (counted from the first failure) suspends it. Default 4000. */
  suspendAfterMs?: number;
}

export interface StreamDeliveryStats {
  requests: number;
  /** Requests answered 2xx. */
  delivered: number;
  /** Non-2xx answers and network failures. */
  failed: number;
  /** Records in requests answered 2xx, repeats included. */
  records: number;
  /** Status changes in order, the first being `active` at creation. */
  statusHistory: Array<{ status: LogStreamStatus; at: number; by: 'api' | 'tenant' }>;
}

export interface TenantStats {
  tokenRequests: number;
  tokensIssued: number;
  logsRequests: number;
  /** Events sent in well-formed pages (normal and `missing-log-id` ones). */
  served: number;
  /** Logs endpoint responses by HTTP status. */
  logsResponses: Record<number, number>;
  /** Token endpoint responses by HTTP status. */
  tokenResponses: Record<number, number>;
  /** The largest `take` requested (valid or not), 0 before any. */
  largestTake: number;
  /** The lowest bucket level a served logs request left (whole tokens); null without a rate limit or before any. */
  lowestRemaining: number | null;
  /** Logs requests made at exactly a URL a `Link: rel="next"` header gave. */
  followedLinks: number;
  /** Times `expireTokensEvery` expired the tokens. */
  forcedExpiries: number;
  /** The `Retry-After` values (seconds) sent with 429s. */
  retryAfterSent: number[];
}

export interface FakeTenant {
  /** `https://127.0.0.1:PORT` */
  readonly url: string;
  /** `127.0.0.1:PORT`, as an Auth0 domain setting would hold it. */
  readonly domain: string;
  readonly port: number;
  /** `https://127.0.0.1:PORT/api/v2/`, the audience the token endpoint requires. */
  readonly audience: string;
  /** PEM of the CA that signed the server certificate. */
  readonly ca: string;
  readonly caFile: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Number of events in the log. */
  size(): number;
  /** The event at `position` (0-based) in log_id order. */
  eventAt(position: number): TenantEvent;
  /** The log_id at `position`, without building the event. */
  idAt(position: number): string;
  /** The newest log_id, or undefined for an empty log. */
  lastId(): string | undefined;
  /** Adds `n` generated events after the newest one. */
  append(n: number): void;
  /** Adds events whose ids must all be greater than the newest id; throws otherwise. */
  appendEvents(events: readonly TenantEvent[]): void;
  setFault(fault: TenantFault): void;
  setFailureRate(rate: number): void;
  /** Makes every token issued so far expired (expiry tests without waiting). */
  expireTokens(): void;
  /** The scopes granted to tokens issued from now on (as a changed client grant does). */
  setScopes(scopes: readonly string[]): void;
  /** The log streams, as GET /api/v2/log-streams lists them. */
  logStreams(): TenantLogStream[];
  /** Deliveries of stream `id` so far. */
  streamDeliveries(id: string): StreamDeliveryStats;
  /** Management API requests to /api/v2/log-streams*, by method and status. */
  logStreamRequests(): Array<{ method: string; path: string; status: number }>;
  stats(): TenantStats;
  resetStats(): void;
  /** Closes the server and every open connection. Idempotent. */
  stop(): Promise<void>;
}

type LazySegment = { kind: 'lazy'; gen: GenerateOptions; count: number };
type ArraySegment = { kind: 'array'; events: TenantEvent[] };
type Segment = LazySegment | ArraySegment;

interface LogStreamState extends TenantLogStream {
  /** Position (in the tenant's log) of the first event not yet delivered. */
  cursor: number;
  /** When the current run of failed deliveries began; null while delivering. */
  failingSince: number | null;
  inFlight: boolean;
  timer: NodeJS.Timeout | undefined;
  deleted: boolean;
  stats: StreamDeliveryStats;
}

interface Reply {
  status: number;
  headers: OutgoingHttpHeaders;
  body: string;
}

const MAX_TAKE = 100;
// The SDK documents 50 as the default `take`.
const DEFAULT_TAKE = 50;
const UNLIMITED = 1_000_000;
const MAX_BODY_BYTES = 64 * 1024;

let sharedPki: TestPki | undefined;
function defaultPki(): TestPki {
  // One PKI per process: generating it runs openssl several times.
  sharedPki ??= createTestPki();
  return sharedPki;
}

function idOfSegmentAt(seg: Segment, i: number): string {
  return seg.kind === 'lazy' ? logIdAt(i, seg.gen) : (seg.events[i] as TenantEvent).log_id;
}
function eventOfSegmentAt(seg: Segment, i: number): TenantEvent {
  return seg.kind === 'lazy' ? eventAt(i, seg.gen) : (seg.events[i] as TenantEvent);
}
function segmentSize(seg: Segment): number {
  return seg.kind === 'lazy' ? seg.count : seg.events.length;
}

/** First index in `seg` whose id is strictly greater than `from` (binary search; ids are sorted). */
function firstAfter(seg: Segment, from: string): number {
  let lo = 0;
  let hi = segmentSize(seg);
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareIds(idOfSegmentAt(seg, mid), from) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function json(status: number, body: unknown, headers: OutgoingHttpHeaders = {}): Reply {
  return { status, headers: { 'content-type': 'application/json; charset=utf-8', ...headers }, body: JSON.stringify(body) };
}

function apiError(status: number, error: string, message: string, extra: Record<string, unknown> = {}, headers: OutgoingHttpHeaders = {}): Reply {
  return json(status, { statusCode: status, error, message, ...extra }, headers);
}

function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      // Too large: answer 413 instead of buffering without bound.
      if (size > MAX_BODY_BYTES) resolve(undefined);
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseTokenBody(raw: string, contentType: string): Record<string, unknown> | undefined {
  const asForm = (): Record<string, unknown> => Object.fromEntries(new URLSearchParams(raw));
  if (contentType.includes('application/x-www-form-urlencoded')) return asForm();
  try {
    const parsed: unknown = JSON.parse(raw);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    // Auth0 also accepts a form body sent without a content type.
    return contentType.includes('json') ? undefined : asForm();
  }
}

function validateGenerated(count: number): void {
  if (!Number.isSafeInteger(count) || count < 0) throw new RangeError('count must be a non-negative integer');
}

export async function startFakeTenant(options: FakeTenantOptions = {}): Promise<FakeTenant> {
  const clientId = options.clientId ?? 'test-client-id';
  const clientSecret = options.clientSecret ?? 'test-client-secret';
  const ttlMs = (options.tokenTtlSeconds ?? 86_400) * 1000;
  const expiresIn = options.tokenTtlSeconds ?? 86_400;
  let fault: TenantFault = options.fault ?? null;
  let failureRate = options.failureRate ?? 0;
  const failureRandom = createPrng((options.seed ?? 1) ^ 0x5eed_fa11);
  const latency = options.latencyMs;

  if (!(failureRate >= 0 && failureRate <= 1)) throw new RangeError('failureRate must be within 0..1');

  let tls: { cert: string; key: string; ca: string; caFile: string };
  if (options.cert !== undefined || options.key !== undefined) {
    if (options.cert === undefined || options.key === undefined) throw new TypeError('cert and key must be given together');
    tls = { cert: options.cert, key: options.key, ca: options.ca ?? '', caFile: options.caFile ?? '' };
  } else {
    const { cert, key, ca, caFile } = defaultPki().server;
    tls = { cert, key, ca, caFile };
  }

  // Generator options for lazy segments: everything in `options` that GenerateOptions knows.
  const baseGen: GenerateOptions = {};
  if (options.seed !== undefined) baseGen.seed = options.seed;
  if (options.start !== undefined) baseGen.start = options.start;
  if (options.perSecond !== undefined) baseGen.perSecond = options.perSecond;
  if (options.dateJitterMs !== undefined) baseGen.dateJitterMs = options.dateJitterMs;
  if (options.hostileEvery !== undefined) baseGen.hostileEvery = options.hostileEvery;
  if (options.hugeEvery !== undefined) baseGen.hugeEvery = options.hugeEvery;

  const segments: Segment[] = [];
  let total = 0;
  if (options.events) {
    const sorted = [...options.events].sort((a, b) => compareIds(a.log_id, b.log_id));
    for (let k = 1; k < sorted.length; k++) {
      if (compareIds((sorted[k - 1] as TenantEvent).log_id, (sorted[k] as TenantEvent).log_id) === 0) throw new RangeError('duplicate log_id in events');
    }
    if (sorted.length > 0) segments.push({ kind: 'array', events: sorted });
    total = sorted.length;
  } else {
    const count = options.count ?? 0;
    validateGenerated(count);
    segments.push({ kind: 'lazy', gen: baseGen, count });
    total = count;
  }

  // ------------------------------------------------------------ the log

  function lastId(): string | undefined {
    for (let s = segments.length - 1; s >= 0; s--) {
      const seg = segments[s] as Segment;
      const n = segmentSize(seg);
      if (n > 0) return idOfSegmentAt(seg, n - 1);
    }
    return undefined;
  }

  function locate(position: number): [Segment, number] {
    if (!Number.isSafeInteger(position) || position < 0 || position >= total) throw new RangeError(`position ${position} outside 0..${total - 1}`);
    let p = position;
    for (const seg of segments) {
      const n = segmentSize(seg);
      if (p < n) return [seg, p];
      p -= n;
    }
    throw new RangeError('unreachable');
  }

  function append(n: number): void {
    validateGenerated(n);
    if (n === 0) return;
    const last = segments[segments.length - 1];
    if (last?.kind === 'lazy') {
      // Continuing the generator keeps ids increasing and events unique.
      last.count += n;
    } else {
      // After explicit events: a fresh generator starting the second after the newest id.
      const newest = lastId();
      const sec = newest === undefined ? undefined : logIdSecond(newest);
      const startSec = sec === undefined ? Math.floor(Date.now() / 1000) : sec + 1;
      if (newest !== undefined && sec === undefined) {
        // An id of another shape: generated ids ("900…", 56 digits) may not sort after it.
        if (compareIds(logIdAt(0, { start: new Date(startSec * 1000) }), newest) <= 0) {
          throw new RangeError(`cannot generate ids after ${newest}; use appendEvents`);
        }
      }
      segments.push({ kind: 'lazy', gen: { ...baseGen, seed: (baseGen.seed ?? 1) + segments.length * 7919, start: new Date(startSec * 1000) }, count: n });
    }
    total += n;
  }

  function appendEvents(events: readonly TenantEvent[]): void {
    if (events.length === 0) return;
    const sorted = [...events].sort((a, b) => compareIds(a.log_id, b.log_id));
    let previous = lastId();
    for (const e of sorted) {
      if (typeof e.log_id !== 'string' || e.log_id.length === 0) throw new TypeError('every appended event needs a log_id');
      if (previous !== undefined && compareIds(e.log_id, previous) <= 0) {
        throw new RangeError(`log_id ${e.log_id} is not after ${previous}: the log only grows at its end`);
      }
      previous = e.log_id;
    }
    const last = segments[segments.length - 1];
    if (last?.kind === 'array') last.events.push(...sorted);
    else segments.push({ kind: 'array', events: sorted });
    total += sorted.length;
  }

  /** Up to `take` events with ids strictly greater than `from`, in id order. */
  function page(from: string, take: number): TenantEvent[] {
    const out: TenantEvent[] = [];
    for (const seg of segments) {
      const n = segmentSize(seg);
      if (n === 0 || compareIds(idOfSegmentAt(seg, n - 1), from) <= 0) continue;
      for (let i = firstAfter(seg, from); i < n && out.length < take; i++) out.push(eventOfSegmentAt(seg, i));
      if (out.length >= take) break;
    }
    return out;
  }

  // ------------------------------------------------------------ tokens, rate limit, stats

  const tokens = new Map<string, number>();
  const tokenScopes = new Map<string, ReadonlySet<string>>();
  let grantedScopes: readonly string[] = options.scopes ?? ['read:logs'];

  const resetMeans = options.resetMeans ?? 'next-token';
  const expireEvery = options.expireTokensEvery ?? 0;
  if (!Number.isInteger(expireEvery) || expireEvery < 0) throw new RangeError('expireTokensEvery must be a non-negative integer');
  /** Next URLs handed out, to count the requests that follow them (bounded: only recent ones matter). */
  const linksGiven = new Set<string>();
  /** Expires every token issued so far, as of `now` (the time the request in hand is judged by). */
  const expireAll = (now = Date.now()): void => {
    const past = now - 1;
    for (const token of tokens.keys()) tokens.set(token, past);
  };

  const bucket = options.rateLimit
    ? { limit: options.rateLimit.limit, refill: options.rateLimit.refillPerSecond, level: options.rateLimit.limit, at: Date.now() }
    : undefined;
  if (bucket && (!(bucket.limit >= 1) || !(bucket.refill >= 0))) throw new RangeError('rateLimit needs limit >= 1 and refillPerSecond >= 0');

  function refill(now: number): void {
    if (!bucket) return;
    bucket.level = Math.min(bucket.limit, bucket.level + ((now - bucket.at) / 1000) * bucket.refill);
    bucket.at = now;
  }

  function rateHeaders(now: number): OutgoingHttpHeaders {
    const nowSec = Math.ceil(now / 1000);
    if (!bucket) return { 'x-ratelimit-limit': String(UNLIMITED), 'x-ratelimit-remaining': String(UNLIMITED - 1), 'x-ratelimit-reset': String(nowSec) };
    let reset = nowSec;
    if (bucket.level < bucket.limit) {
      // Seconds until the level reaches the next whole token (or the whole bucket); rounded up so a
      // client that waits until `reset` finds that token there.
      const missing = resetMeans === 'bucket-full' ? bucket.limit - bucket.level : Math.floor(bucket.level) + 1 - bucket.level;
      const wait = bucket.refill > 0 ? missing / bucket.refill : 86_400;
      reset = Math.ceil((now + wait * 1000) / 1000);
    }
    return {
      'x-ratelimit-limit': String(bucket.limit),
      'x-ratelimit-remaining': String(Math.max(0, Math.floor(bucket.level))),
      'x-ratelimit-reset': String(reset),
    };
  }

  let stats: TenantStats;
  const resetStats = (): void => {
    stats = { tokenRequests: 0, tokensIssued: 0, logsRequests: 0, served: 0, logsResponses: {}, tokenResponses: {}, largestTake: 0, lowestRemaining: null, followedLinks: 0, forcedExpiries: 0, retryAfterSent: [] };
  };
  resetStats();
  const count = (table: Record<number, number>, status: number): void => {
    table[status] = (table[status] ?? 0) + 1;
  };

  // ------------------------------------------------------------ handlers

  let port = 0;
  const base = (): string => `https://127.0.0.1:${port}`;

  async function handleToken(req: IncomingMessage): Promise<Reply> {
    stats.tokenRequests++;
    const raw = await readBody(req);
    if (raw === undefined) return json(413, { error: 'invalid_request', error_description: 'Request body too large' });
    const body = parseTokenBody(raw, String(req.headers['content-type'] ?? ''));
    if (!body) return json(400, { error: 'invalid_request', error_description: 'Invalid request body' });
    if (body['grant_type'] !== 'client_credentials') {
      return json(403, { error: 'unauthorized_client', error_description: `Grant type '${String(body['grant_type'])}' not allowed for the client.` });
    }
    if (body['client_id'] !== clientId || body['client_secret'] !== clientSecret) {
      return json(401, { error: 'access_denied', error_description: 'Unauthorized' });
    }
    const audience = `${base()}/api/v2/`;
    if (body['audience'] !== audience) {
      return json(403, { error: 'access_denied', error_description: `Service not enabled within domain: ${String(body['audience'])}` });
    }
    // Opaque random tokens: a client must not rely on decoding them.
    const token = randomBytes(24).toString('base64url');
    tokens.set(token, Date.now() + ttlMs);
    tokenScopes.set(token, new Set(grantedScopes));
    stats.tokensIssued++;
    return json(200, { access_token: token, expires_in: expiresIn, scope: grantedScopes.join(' '), token_type: 'Bearer' });
  }

  function handleLogs(req: IncomingMessage, url: URL): Reply {
    stats.logsRequests++;
    const now = Date.now();
    refill(now);
    if (linksGiven.has(`${base()}${req.url ?? ''}`)) stats.followedLinks++;
    if (expireEvery > 0 && stats.logsRequests % expireEvery === 0) {
      expireAll(now);
      stats.forcedExpiries++;
    }

    const auth = req.headers.authorization;
    const match = auth === undefined ? null : /^Bearer\s+(\S+)$/i.exec(auth);
    if (!match) return apiError(401, 'Unauthorized', 'Missing authentication', {}, rateHeaders(now));
    const expiresAt = tokens.get(match[1] as string);
    if (expiresAt === undefined) return apiError(401, 'Unauthorized', 'Invalid token', {}, rateHeaders(now));
    if (expiresAt <= now) return apiError(401, 'Unauthorized', 'Expired token received for JSON Web Token validation', {}, rateHeaders(now));

    if (fault === 'forbidden') {
      return apiError(403, 'Forbidden', 'Insufficient scope, expected any of: read:logs,read:logs_users', { errorCode: 'insufficient_scope' }, rateHeaders(now));
    }

    if (bucket) {
      if (bucket.level < 1) {
        // Retry-After (RFC 9110: delay-seconds) until the next whole token.
        const retryAfter = bucket.refill > 0 ? Math.max(1, Math.ceil((1 - bucket.level) / bucket.refill)) : 86_400;
        stats.retryAfterSent.push(retryAfter);
        return apiError(429, 'Too Many Requests', 'Global limit has been reached', { errorCode: 'too_many_requests' }, { ...rateHeaders(now), 'retry-after': String(retryAfter) });
      }
      bucket.level -= 1;
      const left = Math.floor(bucket.level);
      stats.lowestRemaining = stats.lowestRemaining === null ? left : Math.min(stats.lowestRemaining, left);
    }
    const limits = rateHeaders(now);

    const rawTake = url.searchParams.get('take');
    const take = rawTake === null ? DEFAULT_TAKE : /^\d{1,9}$/.test(rawTake) ? Number(rawTake) : Number.NaN;
    if (!Number.isNaN(take)) stats.largestTake = Math.max(stats.largestTake, take);
    if (!(take >= 1 && take <= MAX_TAKE)) {
      return apiError(400, 'Bad Request', `Query validation error: 'take' must be an integer from 1 to ${MAX_TAKE}, got ${JSON.stringify(rawTake)}`, { errorCode: 'invalid_query_string' }, limits);
    }
    const from = url.searchParams.get('from');
    if (from === null) {
      return apiError(400, 'Bad Request', "This fake tenant implements checkpoint mode only: pass 'from' (a log_id, or '0' for the oldest log) and 'take'", { errorCode: 'invalid_query_string' }, limits);
    }
    if (from.length === 0) {
      return apiError(400, 'Bad Request', "Query validation error: 'from' must not be empty", { errorCode: 'invalid_query_string' }, limits);
    }

    if (failureRate > 0 && failureRandom() < failureRate) {
      const pickStatus = failureRandom();
      if (pickStatus < 0.5) return apiError(500, 'Internal Server Error', 'Internal Server Error', {}, limits);
      if (pickStatus < 0.75) return apiError(502, 'Bad Gateway', 'Bad Gateway', {}, limits);
      return apiError(503, 'Service Unavailable', 'The service is temporarily unavailable, please try again later', {}, limits);
    }

    const events = page(from, take);
    const last = events[events.length - 1];
    // Checkpoint mode ignores every other parameter, so the next URL carries only take and from, in
    // that order (a URL a client builds itself would not be written so); an empty page's next URL is
    // the request's own URL, as documented.
    const next = last ? `${base()}/api/v2/logs?take=${take}&from=${encodeURIComponent(last.log_id)}` : `${base()}${req.url ?? ''}`;
    if (linksGiven.size >= 1_000) linksGiven.clear();
    linksGiven.add(next);
    const headers: OutgoingHttpHeaders = { ...limits, link: `<${next}>; rel="next"` };

    switch (fault) {
      case 'html':
        return {
          status: 200,
          headers: { ...limits, 'content-type': 'text/html; charset=utf-8' },
          body: '<!DOCTYPE html><html><head><title>Service</title></head><body><h1>Please wait while we check your browser…</h1></body></html>',
        };
      case 'non-array':
        // The shape of a search-mode response with include_totals: not what checkpoint mode returns.
        return json(200, { start: 0, limit: take, length: events.length, total: events.length, logs: events }, headers);
      case 'malformed-json': {
        const body = JSON.stringify(events);
        return { status: 200, headers: { ...headers, 'content-type': 'application/json; charset=utf-8' }, body: body.slice(0, Math.max(1, Math.floor(body.length / 2))) };
      }
      case 'missing-log-id': {
        stats.served += events.length;
        // The last event is the one a shipper would checkpoint on.
        const stripped = events.slice();
        if (last) {
          const copy: Record<string, unknown> = { ...last };
          delete copy['log_id'];
          delete copy['_id'];
          stripped[stripped.length - 1] = copy as TenantEvent;
        }
        return json(200, stripped, headers);
      }
      default:
        stats.served += events.length;
        return json(200, events, headers);
    }
  }

  // ------------------------------------------------------------ log streams (Management API and sender)

  const streams = new Map<string, LogStreamState>();
  const streamRequests: Array<{ method: string; path: string; status: number }> = [];
  const delivery = {
    maxBatch: options.streamDelivery?.maxBatch ?? 20,
    retryMs: options.streamDelivery?.retryMs ?? 200,
    pauseAfterMs: options.streamDelivery?.pauseAfterMs ?? 2_000,
    suspendAfterMs: options.streamDelivery?.suspendAfterMs ?? 4_000,
  };
  let stopped = false;

  /** The Bearer token's scopes, or the 401 Auth0 answers. */
  function authorize(req: IncomingMessage, now: number): ReadonlySet<string> | Reply {
    const auth = req.headers.authorization;
    const match = auth === undefined ? null : /^Bearer\s+(\S+)$/i.exec(auth);
    if (!match) return apiError(401, 'Unauthorized', 'Missing authentication', {}, rateHeaders(now));
    const expiresAt = tokens.get(match[1] as string);
    if (expiresAt === undefined) return apiError(401, 'Unauthorized', 'Invalid token', {}, rateHeaders(now));
    if (expiresAt <= now) return apiError(401, 'Unauthorized', 'Expired token received for JSON Web Token validation', {}, rateHeaders(now));
    return tokenScopes.get(match[1] as string) ?? new Set();
  }

  const publicStream = (s: LogStreamState): TenantLogStream => ({
    id: s.id, name: s.name, type: s.type, status: s.status, sink: { ...s.sink },
    ...(s.filters ? { filters: s.filters } : {}), ...(s.isPriority === undefined ? {} : { isPriority: s.isPriority }),
  });

  const STREAM_TYPES = ['http', 'eventbridge', 'eventgrid', 'datadog', 'splunk', 'sumo', 'segment', 'mixpanel'];
  const CONTENT_FORMATS = ['JSONLINES', 'JSONARRAY', 'JSONOBJECT'];
  const STATUSES: readonly LogStreamStatus[] = ['active', 'paused', 'suspended'];

  /** The problem with an http sink, as Auth0's payload validation words it; undefined when valid. */
  function httpSinkProblem(sink: Record<string, unknown>, creating: boolean): string | undefined {
    const known = ['httpEndpoint', 'httpContentType', 'httpContentFormat', 'httpAuthorization', 'httpCustomHeaders'];
    for (const key of Object.keys(sink)) if (!known.includes(key)) return `Additional properties not allowed: ${key} (sink)`;
    if (creating && typeof sink['httpEndpoint'] !== 'string') return 'Missing required property: httpEndpoint (sink)';
    if (sink['httpEndpoint'] !== undefined) {
      if (typeof sink['httpEndpoint'] !== 'string') return 'Expected type string but found type ' + typeof sink['httpEndpoint'] + ' (sink.httpEndpoint)';
      try {
        new URL(sink['httpEndpoint']);
      } catch {
        return 'Object didn\'t pass validation for format uri: ' + sink['httpEndpoint'] + ' (sink.httpEndpoint)';
      }
    }
    if (sink['httpContentFormat'] !== undefined && !CONTENT_FORMATS.includes(String(sink['httpContentFormat']))) return `No enum match for: ${JSON.stringify(sink['httpContentFormat'])} (sink.httpContentFormat)`;
    for (const key of ['httpContentType', 'httpAuthorization']) {
      if (sink[key] !== undefined && typeof sink[key] !== 'string') return `Expected type string (sink.${key})`;
    }
    return undefined;
  }

  async function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown> | Reply> {
    const raw = await readBody(req);
    if (raw === undefined) return apiError(413, 'Request Entity Too Large', 'Payload too large');
    try {
      const parsed: unknown = JSON.parse(raw);
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
    } catch {
      // answered below
    }
    return apiError(400, 'Bad Request', 'Invalid request payload JSON format', { errorCode: 'invalid_body' });
  }

  const isReply = (v: unknown): v is Reply => typeof v === 'object' && v !== null && 'status' in v && 'body' in v && 'headers' in v;

  async function handleLogStreams(req: IncomingMessage, url: URL): Promise<Reply> {
    const now = Date.now();
    refill(now);
    const scopes = authorize(req, now);
    if (isReply(scopes)) return scopes;
    const id = url.pathname === '/api/v2/log-streams' ? undefined : decodeURIComponent(url.pathname.slice('/api/v2/log-streams/'.length));
    const method = req.method ?? 'GET';
    const needed =
      method === 'GET' ? 'read:log_streams'
      : method === 'POST' && id === undefined ? 'create:log_streams'
      : method === 'PATCH' && id !== undefined ? 'update:log_streams'
      : method === 'DELETE' && id !== undefined ? 'delete:log_streams'
      : undefined;
    if (needed === undefined) return apiError(404, 'Not Found', 'Not Found');
    if (!scopes.has(needed)) return apiError(403, 'Forbidden', `Insufficient scope, expected any of: ${needed}`, { errorCode: 'insufficient_scope' }, rateHeaders(now));
    // The Management API's global limit: the same bucket as the logs endpoint.
    if (bucket) {
      if (bucket.level < 1) return apiError(429, 'Too Many Requests', 'Global limit has been reached', { errorCode: 'too_many_requests' }, rateHeaders(now));
      bucket.level -= 1;
    }
    const limits = rateHeaders(now);
    const existing = id === undefined ? undefined : streams.get(id);
    if (id !== undefined && existing === undefined) return apiError(404, 'Not Found', 'The log stream does not exist', { errorCode: 'inexistent_log_stream' }, limits);

    if (method === 'GET') return json(200, existing ? publicStream(existing) : [...streams.values()].map(publicStream), limits);
    if (method === 'DELETE') {
      (existing as LogStreamState).deleted = true;
      streams.delete(id as string);
      return { status: 204, headers: limits, body: '' };
    }
    const body = await readJsonBody(req);
    if (isReply(body)) return body;
    const invalid = (message: string): Reply => apiError(400, 'Bad Request', `Payload validation error: '${message}'.`, { errorCode: 'invalid_body' }, limits);
    if (method === 'POST') {
      for (const key of Object.keys(body)) if (!['name', 'type', 'sink', 'filters', 'isPriority', 'startFrom', 'pii_config'].includes(key)) return invalid(`Additional properties not allowed: ${key}`);
      if (typeof body['type'] !== 'string' || !STREAM_TYPES.includes(body['type'])) return invalid(`No enum match for: ${JSON.stringify(body['type'])} (type)`);
      if (body['name'] !== undefined && typeof body['name'] !== 'string') return invalid('Expected type string (name)');
      const sink = body['sink'];
      if (sink === null || typeof sink !== 'object' || Array.isArray(sink)) return invalid('Missing required property: sink');
      if (body['type'] === 'http') {
        const problem = httpSinkProblem(sink as Record<string, unknown>, true);
        if (problem) return invalid(problem);
      }
      const created: LogStreamState = {
        id: `lst_${randomBytes(8).toString('hex')}`,
        name: typeof body['name'] === 'string' ? body['name'] : `${body['type']}-stream`,
        type: body['type'],
        status: 'active',
        sink: { ...(sink as Record<string, unknown>) },
        ...(Array.isArray(body['filters']) ? { filters: body['filters'] as unknown[] } : {}),
        ...(typeof body['isPriority'] === 'boolean' ? { isPriority: body['isPriority'] } : {}),
        // A stream carries the events that happen after it is created.
        cursor: total,
        failingSince: null,
        inFlight: false,
        timer: undefined,
        deleted: false,
        stats: { requests: 0, delivered: 0, failed: 0, records: 0, statusHistory: [{ status: 'active', at: now, by: 'api' }] },
      };
      streams.set(created.id, created);
      schedule(created, 0);
      return json(201, publicStream(created), limits);
    }
    // PATCH
    const stream = existing as LogStreamState;
    for (const key of Object.keys(body)) if (!['name', 'status', 'sink', 'filters', 'isPriority', 'pii_config'].includes(key)) return invalid(`Additional properties not allowed: ${key}`);
    if (body['name'] !== undefined && typeof body['name'] !== 'string') return invalid('Expected type string (name)');
    if (body['status'] !== undefined && !STATUSES.includes(body['status'] as LogStreamStatus)) return invalid(`No enum match for: ${JSON.stringify(body['status'])} (status)`);
    const sink = body['sink'];
    if (sink !== undefined) {
      if (sink === null || typeof sink !== 'object' || Array.isArray(sink)) return invalid('Expected type object (sink)');
      if (stream.type === 'http') {
        const problem = httpSinkProblem(sink as Record<string, unknown>, false);
        if (problem) return invalid(problem);
      }
      stream.sink = { ...stream.sink, ...(sink as Record<string, unknown>) };
    }
    if (typeof body['name'] === 'string') stream.name = body['name'];
    if (Array.isArray(body['filters'])) stream.filters = body['filters'] as unknown[];
    if (typeof body['isPriority'] === 'boolean') stream.isPriority = body['isPriority'];
    if (body['status'] !== undefined && body['status'] !== stream.status) {
      setStatus(stream, body['status'] as LogStreamStatus, 'api');
      // Resumed: a fresh start, from the first event not yet delivered.
      if (stream.status === 'active') stream.failingSince = null;
      schedule(stream, 0);
    }
    return json(200, publicStream(stream), limits);
  }

  function setStatus(stream: LogStreamState, status: LogStreamStatus, by: 'api' | 'tenant'): void {
    stream.status = status;
    stream.stats.statusHistory.push({ status, at: Date.now(), by });
  }

  function schedule(stream: LogStreamState, ms: number): void {
    if (stopped || stream.deleted) return;
    if (stream.timer) clearTimeout(stream.timer);
    stream.timer = setTimeout(() => {
      stream.timer = undefined;
      void deliverNext(stream);
    }, ms);
  }

  /** One step of the sender: a request when active with events waiting, the pause/suspend clock otherwise. */
  async function deliverNext(stream: LogStreamState): Promise<void> {
    if (stopped || stream.deleted || stream.inFlight) return;
    const now = Date.now();
    if (stream.status === 'paused' && stream.failingSince !== null && now - stream.failingSince >= delivery.suspendAfterMs) {
      setStatus(stream, 'suspended', 'tenant');
    }
    if (stream.status === 'paused' && stream.failingSince !== null) return schedule(stream, Math.max(10, stream.failingSince + delivery.suspendAfterMs - now));
    if (stream.status !== 'active') return;
    if (stream.type !== 'http' || stream.cursor >= total) return schedule(stream, 50);
    const format = String(stream.sink['httpContentFormat'] ?? 'JSONLINES');
    const take = format === 'JSONOBJECT' ? 1 : delivery.maxBatch;
    const events: TenantEvent[] = [];
    for (let p = stream.cursor; p < total && events.length < take; p++) {
      const [seg, i] = locate(p);
      events.push(eventOfSegmentAt(seg, i));
    }
    const shape: StreamContentFormat = format === 'JSONARRAY' ? 'json-array' : format === 'JSONOBJECT' ? 'json-object' : 'json-lines';
    const headers: Record<string, string> = { 'content-type': String(stream.sink['httpContentType'] ?? 'application/json') };
    if (typeof stream.sink['httpAuthorization'] === 'string' && stream.sink['httpAuthorization'] !== '') headers['authorization'] = stream.sink['httpAuthorization'];
    const custom = stream.sink['httpCustomHeaders'];
    if (Array.isArray(custom)) for (const h of custom as Array<{ header?: unknown; value?: unknown }>) if (typeof h.header === 'string' && typeof h.value === 'string') headers[h.header.toLowerCase()] = h.value;
    stream.inFlight = true;
    stream.stats.requests++;
    let ok = false;
    try {
      const res = await fetch(String(stream.sink['httpEndpoint']), { method: 'POST', headers, body: encodeBatch(events.map(toStreamRecord), shape), signal: AbortSignal.timeout(10_000) });
      await res.arrayBuffer();
      ok = res.status >= 200 && res.status < 300;
    } catch {
      ok = false;
    } finally {
      stream.inFlight = false;
    }
    if (stopped || stream.deleted) return;
    if (ok) {
      stream.stats.delivered++;
      stream.stats.records += events.length;
      stream.cursor += events.length;
      stream.failingSince = null;
      return schedule(stream, 0);
    }
    stream.stats.failed++;
    const at = Date.now();
    stream.failingSince ??= at;
    // Paused or resumed through the API while the request was out: that decision stands.
    if (stream.status === 'active' && at - stream.failingSince >= delivery.pauseAfterMs) setStatus(stream, 'paused', 'tenant');
    schedule(stream, stream.status === 'active' ? delivery.retryMs : 10);
  }

  async function route(req: IncomingMessage): Promise<[Reply, 'token' | 'logs' | 'log-streams' | 'other']> {
    const url = new URL(req.url ?? '/', base());
    if (url.pathname === '/api/v2/log-streams' || url.pathname.startsWith('/api/v2/log-streams/')) {
      const reply = await handleLogStreams(req, url);
      streamRequests.push({ method: req.method ?? '', path: url.pathname, status: reply.status });
      return [reply, 'log-streams'];
    }
    if (url.pathname === '/oauth/token') {
      if (req.method !== 'POST') return [apiError(404, 'Not Found', 'Not Found'), 'token'];
      return [await handleToken(req), 'token'];
    }
    if (url.pathname === '/api/v2/logs') {
      if (req.method !== 'GET') return [apiError(404, 'Not Found', 'Not Found'), 'logs'];
      return [handleLogs(req, url), 'logs'];
    }
    return [apiError(404, 'Not Found', 'Not Found'), 'other'];
  }

  // ------------------------------------------------------------ server

  const pending = new Set<NodeJS.Timeout>();

  const delay = (): Promise<void> | undefined => {
    const ms = typeof latency === 'function' ? latency() : latency;
    if (ms === undefined || !(ms > 0)) return undefined;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        pending.delete(timer);
        resolve();
      }, ms);
      pending.add(timer);
    });
  };

  const send = (res: ServerResponse, reply: Reply): void => {
    if (res.destroyed || res.writableEnded) return;
    res.writeHead(reply.status, { ...reply.headers, 'content-length': Buffer.byteLength(reply.body) });
    res.end(reply.body);
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    route(req).then(
      async ([reply, endpoint]) => {
        if (endpoint === 'logs') count(stats.logsResponses, reply.status);
        else if (endpoint === 'token') count(stats.tokenResponses, reply.status);
        const wait = delay();
        if (wait) await wait;
        send(res, reply);
      },
      (error: unknown) => {
        send(res, apiError(500, 'Internal Server Error', `fake tenant bug: ${String(error)}`));
      },
    );
  };

  const server: Server = createServer({ cert: tls.cert, key: tls.key }, onRequest);
  // Benchmarks reuse connections across many pages.
  server.keepAliveTimeout = 30_000;
  const sockets = new Set<Socket>();
  server.on('secureConnection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  // A client that drops mid-handshake must not crash the test process.
  server.on('tlsClientError', () => undefined);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('server has no TCP address');
  port = address.port;

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= new Promise<void>((resolve) => {
      stopped = true;
      for (const stream of streams.values()) if (stream.timer) clearTimeout(stream.timer);
      for (const timer of pending) clearTimeout(timer);
      pending.clear();
      server.close(() => resolve());
      server.closeAllConnections();
      // TLS sockets still handshaking are not yet known to the HTTP layer.
      for (const socket of sockets) socket.destroy();
    });
    return stopping;
  };

  return {
    url: base(),
    domain: `127.0.0.1:${port}`,
    port,
    audience: `${base()}/api/v2/`,
    ca: tls.ca,
    caFile: tls.caFile,
    clientId,
    clientSecret,
    size: () => total,
    eventAt: (position) => {
      const [seg, i] = locate(position);
      return eventOfSegmentAt(seg, i);
    },
    idAt: (position) => {
      const [seg, i] = locate(position);
      return idOfSegmentAt(seg, i);
    },
    lastId,
    append,
    appendEvents,
    setFault: (next) => {
      fault = next;
    },
    setFailureRate: (rate) => {
      if (!(rate >= 0 && rate <= 1)) throw new RangeError('failure rate must be within 0..1');
      failureRate = rate;
    },
    setScopes: (scopes) => {
      grantedScopes = [...scopes];
    },
    logStreams: () => [...streams.values()].map(publicStream),
    streamDeliveries: (id) => {
      const stream = streams.get(id);
      if (!stream) throw new RangeError(`no log stream ${id}`);
      return { ...stream.stats, statusHistory: [...stream.stats.statusHistory] };
    },
    logStreamRequests: () => [...streamRequests],
    expireTokens: () => expireAll(),
    stats: () => ({ ...stats, logsResponses: { ...stats.logsResponses }, tokenResponses: { ...stats.tokenResponses }, retryAfterSent: [...stats.retryAfterSent] }),
    resetStats,
    stop,
  };
}
