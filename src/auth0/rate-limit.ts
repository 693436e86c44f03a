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

/** How long to wait after a 429: until the reset, else Retry-After, else a backoff step. */
export function waitAfter429(rateLimit: RateLimit, headers: Headers, now: number, fallbackMs: number): number {
  if (rateLimit.resetAt !== null && rateLimit.resetAt > now) return rateLimit.resetAt - now;
  const retryAfter = header(headers, 'retry-after');
  if (retryAfter !== null) return retryAfter * 1000;
  return fallbackMs;
}

/** Exponential backoff with full jitter: uniform in [0, min(cap, base·2^attempt)]. */
export function backoffMs(attempt: number, random: () => number, baseMs = 250, capMs = 8_000): number {
  return Math.round(random() * Math.min(capMs, baseMs * 2 ** attempt));
}
