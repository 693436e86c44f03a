/**
 * Auth0LogsClient over the Management API v2, checkpoint mode.
 *
 * - Token: client credentials, cached in memory until shortly before expiry,
 *   never stored. A 401 on the logs endpoint gets exactly one refresh.
 * - Rate limits: when x-ratelimit-remaining reaches 0 the next request waits for
 *   the next token: when the refill rate measured from the headers has added
 *   one, or at x-ratelimit-reset at the latest; a 429 waits for the reset. A wait that would pass the
 *   run's deadline ends the run cleanly instead (OutOfTimeError).
 * - 5xx, timeouts and network errors: exponential backoff with full jitter,
 *   bounded by attempts and by the deadline.
 * - Any other 4xx fails at once with Auth0's own message.
 */
import { Auth0ApiError, OutOfTimeError } from '../errors';
import { isCertificateFailure } from '../tls-trust';
import type { Auth0LogsClient, Clock, LogsPage, LogsQuery, Metrics } from '../ports';

/** What bounds every request, retry and wait of one call. */
type Bounds = Pick<LogsQuery, 'deadline' | 'signal'>;
import type { Auth0Log } from './auth0-log';
import { logIdOf } from './auth0-log';
import { HttpTimeoutError, type HttpResponse, type HttpTransport } from './http';
import { backoffMs, parseRateLimit, RefillEstimate, waitAfter429, type RateLimit } from './rate-limit';

/** The code of a create (POST) whose outcome is unknown: look for what it would have created before creating again. */
export const OUTCOME_UNKNOWN = 'AUTH0_OUTCOME_UNKNOWN';

export interface ManagementApiClientOptions {
  domain: string;
  clientId: string;
  clientSecret: string;
  transport: HttpTransport;
  clock: Clock;
  random?: () => number;
  requestTimeoutMs?: number;
  maxAttempts?: number;
  /** Called before each wait, so the run can say why it is slow. */
  onWait?: (reason: string, ms: number) => void;
  metrics?: Pick<Metrics, 'auth0Response' | 'rateLimitWait' | 'tokenRefreshed'>;
}

export interface RateLimitStatus extends RateLimit {
  /** When that response arrived (epoch ms); 0 before any. */
  at: number;
  /** Measured from the headers; null until measurable. */
  refillPerSecond: number | null;
}

interface CachedToken {
  value: string;
  refreshAt: number;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 15_000;
const DEFAULT_MAX_ATTEMPTS = 8;

export class ManagementApiClient implements Auth0LogsClient {
  private token: CachedToken | null = null;
  /** A token request under way (see `warmUp`), which the first request waits for rather than asking twice. */
  private pendingToken: Promise<string> | null = null;
  /** The `Link: rel="next"` URL of the last page, and the checkpoint and page size it continues from. */
  private next: { from: string; take: number; url: string } | null = null;
  private rateLimit: RateLimit = { limit: null, remaining: null, resetAt: null };
  private rateLimitAt = 0;
  private readonly refill = new RefillEstimate();
  private readonly base: string;
  private readonly random: () => number;
  private readonly requestTimeoutMs: number;
  private readonly maxAttempts: number;

  constructor(private readonly options: ManagementApiClientOptions) {
    this.base = `https://${options.domain}`;
    this.random = options.random ?? Math.random;
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  }

  async getLogs(query: LogsQuery): Promise<LogsPage> {
    const url = this.nextUrl(query);
    const res = await this.exchange({ method: 'GET', url }, query);
    // Any other 2xx is not what the logs endpoint documents: a clear error, never "no logs".
    if (res.status !== 200) throw apiError(res, url.pathname);
    const logs = parseLogsPage(res, url.pathname);
    this.rememberNext(res, logs, query);
    return { logs };
  }

  /**
   * Any other Management API call (the log-streams endpoints), through the
   * same exchange as getLogs. Answers 2xx with the parsed JSON body; any other
   * 4xx fails at once with Auth0's own message (a 403 names the scope it
   * expected). A POST is never sent again after no answer or a 5xx (see
   * `exchange`), and the caller looks before creating again.
   */
  async call(method: 'GET' | 'POST' | 'PATCH', path: string, body: unknown, bounds: Bounds): Promise<unknown> {
    const url = new URL(path, this.base);
    // These endpoints' own 403 message names the scope they expect.
    const res = await this.exchange({ method, url, ...(body === undefined ? {} : { body: JSON.stringify(body) }) }, bounds, '');
    const parsed = res.body === '' ? null : safeJson(res.body);
    if (parsed === undefined) throw new Auth0ApiError(`Auth0 ${url.pathname} answered ${res.status} with a body that is not JSON (${contentType(res)}: "${excerpt(res.body)}").`, { status: res.status, code: 'AUTH0_BAD_RESPONSE', endpoint: url.pathname });
    return parsed;
  }

  /**
   * One Management API request until a 2xx answer: it waits for the bucket,
   * sends with the cached token (fetched again once after a 401, which may
   * mean it was revoked or expired early), reads the rate limit from every
   * answer, waits out a 429, and backs off and sends again after no answer,
   * a 5xx or a 408. Any other answer fails at once with Auth0's message.
   *
   * A POST creates something, so it is never sent again after no answer or
   * a 5xx: Auth0 may have acted (a second log stream would deliver every event
   * twice), and it fails with AUTH0_OUTCOME_UNKNOWN instead. A 401 or 429 is
   * still sent again: Auth0 did not act on it. `forbiddenHint` follows the
   * message of a 403 (by default, the read:logs scope getLogs needs).
   */
  private async exchange(req: { method: 'GET' | 'POST' | 'PATCH'; url: URL; body?: string }, bounds: Bounds, forbiddenHint?: string): Promise<HttpResponse> {
    const { method, url } = req;
    let refreshedAfter401 = false;
    for (let attempt = 0; ; ) {
      await this.waitForBucket(bounds);
      const token = await this.accessToken(bounds);
      const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'application/json' };
      if (req.body !== undefined) headers['content-type'] = 'application/json';
      const outcome = await this.request({ method, url, headers, ...(req.body === undefined ? {} : { body: req.body }) }, bounds);
      if (outcome instanceof Error) {
        if (method === 'POST') throw outcomeUnknown(url.pathname, outcome);
        attempt = await this.backoff(attempt, outcome, bounds);
        continue;
      }
      const res = outcome;
      this.rateLimit = parseRateLimit(res.headers);
      this.rateLimitAt = this.options.clock.now();
      this.refill.observe(this.rateLimit, this.rateLimitAt, res.status !== 429);
      if (res.status >= 200 && res.status < 300) return res;
      if (res.status === 401 && !refreshedAfter401) {
        refreshedAfter401 = true;
        this.token = null;
        continue;
      }
      if (res.status === 429) {
        const wait = waitAfter429(this.rateLimit, res.headers, this.options.clock.now(), backoffMs(attempt, this.random, 1_000));
        await this.sleepWithin(wait, bounds, 'Auth0 rate limit (429)');
        continue;
      }
      const error = apiError(res, url.pathname, forbiddenHint);
      if (!error.retriable) throw error;
      if (method === 'POST') throw outcomeUnknown(url.pathname, error);
      attempt = await this.backoff(attempt, error, bounds);
    }
  }

  /**
   * Auth0's docs: "only the first request should be made manually. Each subsequent request should be
   * made using the `next` relation URL inside of the `Link` header." So the next page is asked for at
   * the URL Auth0 gave, as given. The checkpoint still decides what is asked for: the run stores a
   * log id, compares it and resumes from it after a crash, so a remembered link is used only when it
   * continues from exactly that id with the same page size, and the URL is built from the checkpoint
   * otherwise (the first request, a restart, a link of another form, one pointing elsewhere).
   */
  private nextUrl(query: LogsQuery): URL {
    const next = this.next;
    if (next && next.from === query.from && next.take === query.take) return new URL(next.url);
    // Auth0 ignores q, sort, fields and per_page when `from` is given, so none are sent.
    const url = new URL('/api/v2/logs', this.base);
    url.searchParams.set('from', query.from);
    url.searchParams.set('take', String(query.take));
    return url;
  }

  private rememberNext(res: HttpResponse, logs: readonly Auth0Log[], query: LogsQuery): void {
    this.next = null;
    const link = nextLink(res.headers['link']);
    if (link === undefined) return;
    let url: URL;
    try {
      url = new URL(link, this.base);
    } catch {
      return;
    }
    // Only our tenant's logs endpoint: credentials never go to another origin.
    if (url.origin !== new URL(this.base).origin || url.pathname !== '/api/v2/logs') return;
    const from = url.searchParams.get('from');
    const take = Number(url.searchParams.get('take'));
    const last = logs.length === 0 ? query.from : logIdOf(logs[logs.length - 1] as Auth0Log);
    if (from === null || from !== last || take !== query.take) return;
    this.next = { from, take, url: url.href };
  }

  /**
   * Starts the token request now, so that its round trip overlaps what a run
   * does before its first page (opening the state, taking the lease): the
   * time from start to the first logs request counts against the rate
   * limit's ceiling. Reports nothing itself; the first request waits for it
   * and meets its outcome, so a bad secret is still reported once, by the run.
   */
  warmUp(bounds: Bounds): void {
    if (this.pendingToken || (this.token && this.options.clock.now() < this.token.refreshAt)) return;
    this.accessToken(bounds).catch(() => undefined);
  }

  private async accessToken(bounds: Bounds): Promise<string> {
    if (this.token && this.options.clock.now() < this.token.refreshAt) return this.token.value;
    const ahead = this.pendingToken;
    if (ahead) {
      try {
        return await ahead;
      } catch (error) {
        // Credentials refused: reported as is, without asking again. Anything else (out of time, aborted) is asked again within these bounds.
        if (error instanceof Auth0ApiError && !error.retriable) throw error;
      }
    }
    const pending = this.fetchToken(bounds).finally(() => {
      if (this.pendingToken === pending) this.pendingToken = null;
    });
    this.pendingToken = pending;
    return pending;
  }

  private async fetchToken(bounds: Bounds): Promise<string> {
    const url = new URL('/oauth/token', this.base);
    const body = JSON.stringify({
      grant_type: 'client_credentials',
      client_id: this.options.clientId,
      client_secret: this.options.clientSecret,
      audience: `${this.base}/api/v2/`,
    });
    for (let attempt = 0; ; ) {
      const outcome = await this.request({ method: 'POST', url, headers: { 'content-type': 'application/json', accept: 'application/json' }, body }, bounds);
      if (outcome instanceof Error) {
        attempt = await this.backoff(attempt, outcome, bounds);
        continue;
      }
      if (outcome.status === 200) {
        const parsed = safeJson(outcome.body) as { access_token?: unknown; expires_in?: unknown } | undefined;
        if (typeof parsed?.access_token !== 'string' || parsed.access_token === '') {
          throw new Auth0ApiError('Auth0 /oauth/token answered 200 without an access_token.', { status: 200, code: 'AUTH0_BAD_RESPONSE', endpoint: '/oauth/token' });
        }
        const lifetimeMs = (typeof parsed.expires_in === 'number' && parsed.expires_in > 0 ? parsed.expires_in : 3600) * 1000;
        // Refresh a minute early (or at 90% of a short lifetime) so a token never expires mid-page.
        const margin = Math.min(60_000, lifetimeMs * 0.1);
        this.token = { value: parsed.access_token, refreshAt: this.options.clock.now() + lifetimeMs - margin };
        this.options.metrics?.tokenRefreshed();
        return parsed.access_token;
      }
      const error = apiError(outcome, '/oauth/token');
      if (outcome.status === 401 || outcome.status === 403) {
        throw new Auth0ApiError(
          `Auth0 rejected the client credentials (${error.message}). Check AUTH0_CLIENT_ID and AUTH0_CLIENT_SECRET, and that the application is authorized for the Management API with the read:logs scope.`,
          { status: outcome.status, code: 'AUTH0_UNAUTHORIZED', retriable: false, endpoint: '/oauth/token' },
        );
      }
      if (!error.retriable) throw error;
      attempt = await this.backoff(attempt, error, bounds);
    }
  }

  private async request(req: { method: 'GET' | 'POST' | 'PATCH'; url: URL; headers: Record<string, string>; body?: string }, { deadline, signal }: Bounds): Promise<HttpResponse | Error> {
    signal?.throwIfAborted();
    const left = deadline - this.options.clock.now();
    if (left <= 0) throw new OutOfTimeError('The run reached its deadline before Auth0 answered.', { code: 'DEADLINE' });
    const timeoutMs = Math.min(this.requestTimeoutMs, left);
    const endpoint = req.url.pathname === '/oauth/token' ? 'token' : req.url.pathname.startsWith('/api/v2/log-streams') ? 'log-streams' : 'logs';
    let sent = false;
    try {
      const res = await this.options.transport({ ...req, timeoutMs, ...(signal ? { signal } : {}), onSent: () => (sent = true) });
      this.options.metrics?.auth0Response(endpoint, res.status);
      return res;
    } catch (error) {
      // Counted once it was sent, whatever became of it: a request the run abandoned may still have used Auth0's rate limit.
      if (sent || !signal?.aborted) this.options.metrics?.auth0Response(endpoint, 0);
      // Abandoned by the run: not a failure of Auth0's, and not to be retried.
      signal?.throwIfAborted();
      if (error instanceof HttpTimeoutError && timeoutMs < this.requestTimeoutMs) {
        // Cut short by the run's own deadline, not by a slow Auth0: stop cleanly.
        throw new OutOfTimeError('The run reached its deadline while waiting for Auth0; the next run continues.', { code: 'DEADLINE' });
      }
      const code = (error as NodeJS.ErrnoException).code ?? '';
      if (isCertificateFailure(code)) {
        // A certificate that fails verification will not pass on a retry.
        throw new Auth0ApiError(`Refused to talk to Auth0 at ${this.options.domain}: its TLS certificate failed verification (${code}). Check AUTH0_DOMAIN.`, {
          cause: error, code: 'AUTH0_TLS_REJECTED', retriable: false, endpoint: req.url.pathname,
        });
      }
      return new Auth0ApiError(`Request to ${req.url.pathname} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error, code: 'AUTH0_UNREACHABLE', endpoint: req.url.pathname });
    }
  }

  /** Counts a failed attempt and sleeps before the next one, or throws when out of attempts or time. */
  private async backoff(attempt: number, error: Error, { deadline, signal }: Bounds): Promise<number> {
    const next = attempt + 1;
    if (next >= this.maxAttempts) throw error;
    const wait = backoffMs(attempt, this.random);
    if (this.options.clock.now() + wait >= deadline) throw error;
    this.options.onWait?.(`retrying after: ${error.message}`, wait);
    await this.options.clock.sleep(wait, signal);
    return next;
  }

  /** What the last response said about the logs endpoint's bucket, and the refill rate measured so far. */
  rateLimitStatus(): RateLimitStatus {
    return { ...this.rateLimit, at: this.rateLimitAt, refillPerSecond: this.refill.perSecond() };
  }

  private async waitForBucket(bounds: Bounds): Promise<void> {
    if (this.rateLimit.remaining !== 0) return;
    const nextTokenAt = this.refill.nextTokenAt(this.rateLimit, this.rateLimitAt);
    const now = this.options.clock.now();
    if (nextTokenAt !== null && nextTokenAt > now) {
      await this.sleepWithin(nextTokenAt - now, bounds, 'Auth0 rate limit bucket is empty');
    }
  }

  private async sleepWithin(ms: number, { deadline, signal }: Bounds, reason: string): Promise<void> {
    if (this.options.clock.now() + ms >= deadline) {
      throw new OutOfTimeError(`${reason}; it resets after this run's deadline, so the run stops here and the next run continues.`);
    }
    this.options.onWait?.(reason, ms);
    this.options.metrics?.rateLimitWait(ms);
    await this.options.clock.sleep(ms, signal);
    // The bucket refilled (or we assume so); forget the stale reading.
    this.rateLimit = { ...this.rateLimit, remaining: null };
  }
}

/** The target of the `rel="next"` entry of a `Link` header (RFC 8288), if there is one. */
export function nextLink(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header.join(', ') : header;
  if (value === undefined) return undefined;
  for (const match of value.matchAll(/<([^>]*)>((?:\s*;\s*[^;,]+)*)/g)) {
    const params = match[2] ?? '';
    if (/;\s*rel\s*=\s*"?(?:[^";,]*\s)?next(?:\s[^";,]*)?"?\s*(?:;|$)/i.test(params)) return match[1];
  }
  return undefined;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** A short, printable excerpt of a body for error messages. */
function excerpt(body: string): string {
  const flat = body.replace(/[^\x20-\x7e]+/g, ' ').trim();
  return flat.length > 120 ? `${flat.slice(0, 120)}…` : flat;
}

function contentType(res: HttpResponse): string {
  const value = res.headers['content-type'];
  return (Array.isArray(value) ? value[0] : value) ?? 'no content-type';
}

/** A POST that got no answer or a 5xx: Auth0 may or may not have acted on it, so it is not sent again. */
function outcomeUnknown(endpoint: string, cause: Error): Auth0ApiError {
  return new Auth0ApiError(`${cause.message.replace(/\.$/, '')}; Auth0 may have acted on it, so it was not sent again.`, {
    cause, code: OUTCOME_UNKNOWN, retriable: false, endpoint, ...(cause instanceof Auth0ApiError && cause.status !== undefined ? { status: cause.status } : {}),
  });
}

function apiError(res: HttpResponse, endpoint: string, forbiddenHint = ' The application needs the read:logs scope on the Management API.'): Auth0ApiError {
  const body = safeJson(res.body) as { message?: unknown; error?: unknown; error_description?: unknown; errorCode?: unknown } | undefined;
  const auth0Message = [body?.error, body?.error_description ?? body?.message].filter((v): v is string => typeof v === 'string').join(': ');
  const text = auth0Message || `${contentType(res)} body "${excerpt(res.body)}"`;
  const retriable = res.status >= 500 || res.status === 408;
  const code = res.status === 403 ? 'AUTH0_FORBIDDEN' : retriable ? 'AUTH0_UNAVAILABLE' : 'AUTH0_API_ERROR';
  const hint = res.status === 403 ? forbiddenHint : '';
  return new Auth0ApiError(`Auth0 ${endpoint} answered ${res.status}: ${text}.${hint}`, { status: res.status, code, retriable, endpoint });
}

/** A 200 must be a JSON array of objects that each carry a log id; anything else is a clear error, never "no logs". */
function parseLogsPage(res: HttpResponse, endpoint: string): Auth0Log[] {
  const bad = (what: string): Auth0ApiError =>
    new Auth0ApiError(`Auth0 ${endpoint} answered 200 with ${what} (${contentType(res)}: "${excerpt(res.body)}"); nothing was shipped and the checkpoint is unchanged.`, {
      status: 200,
      code: 'AUTH0_BAD_RESPONSE',
      endpoint,
    });
  let parsed: unknown;
  try {
    parsed = JSON.parse(res.body);
  } catch {
    throw bad('a body that is not JSON');
  }
  if (!Array.isArray(parsed)) throw bad('JSON that is not an array of logs');
  parsed.forEach((entry: unknown, index) => {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw bad(`entry ${index} that is not an object`);
    if (logIdOf(entry as Auth0Log) === undefined) throw bad(`entry ${index} without a log_id`);
  });
  return parsed as Auth0Log[];
}
