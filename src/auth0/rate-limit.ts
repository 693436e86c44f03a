/**
 * Auth0's rate-limit headers and the retry timing derived from them.
 * Documented: x-ratelimit-limit, x-ratelimit-remaining, and x-ratelimit-reset
 * (UNIX time in seconds when tokens are added back to the bucket).
 */
export interface RateLimit {
  limit: number | null;
  remaining: number | null;
  /** Epoch ms, or null when the header is missing or unreadable. */
  resetAt: number | null;
}

type Headers = Readonly<Record<string, string | string[] | undefined>>;

function header(headers: Headers, name: string): number | null {
  const raw = headers[name];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (value === undefined || !/^\d+(\.\d+)?$/.test(value.trim())) return null;
  return Number(value);
}

export function parseRateLimit(headers: Headers): RateLimit {
  const reset = header(headers, 'x-ratelimit-reset');
  return {
    limit: header(headers, 'x-ratelimit-limit'),
    remaining: header(headers, 'x-ratelimit-remaining'),
    resetAt: reset === null ? null : reset * 1000,
  };
}

/**
 * How long to wait after a 429: until the later of the reset and Retry-After (delay-seconds), so
 * neither is asked again too early; a backoff step when neither says anything usable.
 */
export function waitAfter429(rateLimit: RateLimit, headers: Headers, now: number, fallbackMs: number): number {
  const untilReset = rateLimit.resetAt !== null && rateLimit.resetAt > now ? rateLimit.resetAt - now : null;
  const retryAfter = header(headers, 'retry-after');
  const retryAfterMs = retryAfter === null ? null : retryAfter * 1000;
  if (untilReset === null && retryAfterMs === null) return fallbackMs;
  return Math.max(untilReset ?? 0, retryAfterMs ?? 0);
}

/** Exponential backoff with full jitter: uniform in [0, min(cap, base·2^attempt)]. */
export function backoffMs(attempt: number, random: () => number, baseMs = 250, capMs = 8_000): number {
  return Math.round(random() * Math.min(capMs, baseMs * 2 ** attempt));
}

interface Sample {
  at: number;
  remaining: number;
  /** Requests that took a token since the window began, this one included. */
  spent: number;
}

/** Observations older than this leave the window, so the estimate follows a changing share. */
const WINDOW_MS = 10_000;
/** A rate measured over less time than this is too coarse (x-ratelimit-remaining is a whole number). */
const MIN_SPAN_MS = 500;

/**
 * Auth0 does not say how fast its bucket refills, and x-ratelimit-reset only
 * names the whole second in which the next token arrives. Waiting for that
 * second idles up to a second per empty bucket; at Enterprise's 16 requests/s
 * that is 16 requests, which a run near its deadline never gets back.
 *
 * So the rate is measured: between two of our responses the bucket gained
 * (remaining now) − (remaining then) + (tokens we spent in between). Summed
 * over a window this telescopes, so the error is one token for the whole
 * window, which is taken off to err on the slow side. Other clients spending
 * the same bucket make the estimate lower, never higher. Observations where
 * the bucket is (nearly) full tell nothing, since a full bucket gains nothing.
 */
export class RefillEstimate {
  private window: Sample[] = [];
  private spent = 0;

  /** Records a response's headers. `tookToken`: the request was served (a 429 takes no token). */
  observe(rateLimit: RateLimit, at: number, tookToken: boolean): void {
    const { limit, remaining } = rateLimit;
    if (limit === null || remaining === null || !tookToken || remaining >= limit - 1) {
      this.window = [];
      this.spent = 0;
      return;
    }
    this.spent++;
    this.window.push({ at, remaining, spent: this.spent });
    while (this.window.length > 2 && at - (this.window[1] as Sample).at >= WINDOW_MS) this.window.shift();
  }

  /** Tokens per second, or null until there is enough to measure. */
  perSecond(): number | null {
    const first = this.window[0];
    const last = this.window[this.window.length - 1];
    if (first === undefined || last === undefined || last.at - first.at < MIN_SPAN_MS) return null;
    const gained = last.remaining - first.remaining + (last.spent - first.spent) - 1;
    return gained > 0 ? gained / ((last.at - first.at) / 1000) : null;
  }

  /**
   * When to ask again after a response that left the bucket empty: when the
   * measured rate has added a token since that response, but never later than
   * the reset Auth0 announced. Null when there is nothing to go on.
   */
  nextTokenAt(rateLimit: RateLimit, lastResponseAt: number): number | null {
    const rate = this.perSecond();
    const estimated = rate === null ? null : lastResponseAt + Math.ceil(1000 / rate);
    if (rateLimit.resetAt === null) return estimated;
    return estimated === null ? rateLimit.resetAt : Math.min(estimated, rateLimit.resetAt);
  }
}
