/**
 * Notifier over a Slack-compatible incoming webhook: one HTTPS POST of JSON
 * per alert, certificate and host name verified.
 *
 * Bounded so that alerting can never hold up an export: each attempt has a
 * short timeout, a failed attempt (no answer, 5xx, 429) is retried twice with
 * backoff (after a 429 not before its Retry-After, and not at all when that is
 * beyond the budget), and everything stops at an overall budget. Other 4xx
 * answers (a revoked or mistyped URL, an archived channel, a refused payload)
 * are not retried; Slack's error code is kept in the outcome. The outcome is
 * returned, never thrown.
 *
 * `https.request` is called with a single options object: wt-cli's `wt serve`
 * replaces it process-wide with an (options, callback) function that drops a
 * separate URL argument.
 */
import https from 'node:https';
import type { Notifier, NotifyOutcome } from '../ports';
import { isCertificateFailure } from '../tls-trust';
import type { Alert } from './alert-rules';
import { slackPayload, type MessageContext } from './slack-message';

export interface SlackWebhookNotifierOptions {
  url: string;
  context: MessageContext;
  /** Extra CA certificates to trust in addition to the system's (tests, private receivers). */
  ca?: string;
  /** Longest wait for one attempt's answer. */
  attemptTimeoutMs?: number;
  /** Longest time one alert may take, every attempt and pause included. */
  budgetMs?: number;
  attempts?: number;
}

export const ALERT_ATTEMPT_TIMEOUT_MS = 2_000;
/** The most an alert can add to a run: see README, "Alerts and monitoring". */
export const ALERT_BUDGET_MS = 5_000;
const ALERT_ATTEMPTS = 3;
const BACKOFF_MS = [250, 1_000];
const MAX_RESPONSE_BYTES = 16 * 1024;

/** `retryAfterMs`: what a 429's Retry-After asked for. */
type Attempt = { ok: true } | { ok: false; retry: boolean; detail: string; retryAfterMs?: number };

/** Slack answers a refused post with a short error code as plain text (invalid_payload, channel_is_archived, …). */
const SLACK_ERROR_CODE = /^[a-z][a-z_]{0,63}$/;

export class SlackWebhookNotifier implements Notifier {
  private readonly target: URL;

  constructor(private readonly options: SlackWebhookNotifierOptions) {
    this.target = new URL(options.url);
  }

  async notify(alert: Alert): Promise<NotifyOutcome> {
    const started = Date.now();
    const budget = this.options.budgetMs ?? ALERT_BUDGET_MS;
    const maxAttempts = this.options.attempts ?? ALERT_ATTEMPTS;
    const body = JSON.stringify(slackPayload(alert, this.options.context));
    let detail = 'not attempted';
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      const left = budget - (Date.now() - started);
      if (left <= 0) return { delivered: false, attempts: attempt - 1, detail: `${detail}; out of time` };
      const result = await this.post(body, Math.min(this.options.attemptTimeoutMs ?? ALERT_ATTEMPT_TIMEOUT_MS, left));
      if (result.ok) return { delivered: true, attempts: attempt };
      detail = result.detail;
      if (!result.retry || attempt === maxAttempts) return { delivered: false, attempts: attempt, detail };
      const wanted = Math.max(BACKOFF_MS[attempt - 1] ?? 1_000, result.retryAfterMs ?? 0);
      const leftNow = budget - (Date.now() - started);
      // Slack's rate limit says when to come back; asking earlier only earns another 429.
      if (result.retryAfterMs !== undefined && wanted >= leftNow) {
        return { delivered: false, attempts: attempt, detail: `${detail}; Slack asked to wait ${Math.ceil(result.retryAfterMs / 1000)} s, beyond the alert's budget` };
      }
      const pause = Math.min(wanted, leftNow);
      if (pause <= 0) return { delivered: false, attempts: attempt, detail: `${detail}; out of time` };
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
    return { delivered: false, attempts: maxAttempts, detail };
  }

  private post(body: string, timeoutMs: number): Promise<Attempt> {
    const { hostname, port, pathname, search } = this.target;
    return new Promise<Attempt>((resolve) => {
      let settled = false;
      const settle = (attempt: Attempt): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.destroy();
        resolve(attempt);
      };
      const req = https.request(
        {
          method: 'POST',
          protocol: 'https:',
          // URL keeps an IPv6 literal in brackets; the socket wants it bare.
          hostname: hostname.replace(/^\[(.*)\]$/, '$1'),
          port: port === '' ? 443 : Number(port),
          path: pathname + search,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
          rejectUnauthorized: true,
          ...(this.options.ca === undefined ? {} : { ca: this.options.ca }),
        },
        (res) => {
          const status = res.statusCode ?? 0;
          let size = 0;
          let text = '';
          // The answer is "ok", or Slack's error code for a refused post.
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            size += Buffer.byteLength(chunk);
            if (size > MAX_RESPONSE_BYTES) res.destroy();
            else if (text.length < 128) text += chunk;
          });
          res.on('end', () => {
            if (status >= 200 && status < 300) {
              settle({ ok: true });
              return;
            }
            // Only a code of Slack's form is repeated: the detail goes to logs and the run history.
            const code = text.trim();
            const detail = SLACK_ERROR_CODE.test(code) ? `HTTP ${status} ${code}` : `HTTP ${status}`;
            const retryAfter = status === 429 ? retryAfterMs(res.headers['retry-after']) : undefined;
            settle({ ok: false, retry: status >= 500 || status === 429 || status === 408, detail, ...(retryAfter === undefined ? {} : { retryAfterMs: retryAfter }) });
          });
          res.on('error', () => settle({ ok: false, retry: true, detail: `HTTP ${status}, answer cut short` }));
        },
      );
      const timer = setTimeout(() => settle({ ok: false, retry: true, detail: `no answer within ${timeoutMs} ms` }), timeoutMs);
      // Only the error's code: a message could carry the address, and the URL's path is the secret.
      req.on('error', (error: NodeJS.ErrnoException) => settle({ ok: false, retry: !isCertificateFailure(error.code), detail: error.code ?? 'network error' }));
      req.end(body);
    });
  }
}

/** Retry-After as delay-seconds (what Slack sends); undefined when absent or of another form. */
function retryAfterMs(header: string | string[] | undefined): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && /^\d{1,6}$/.test(value.trim()) ? Number(value.trim()) * 1000 : undefined;
}
