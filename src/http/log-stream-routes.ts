/**
 * POST /log-stream: the target of an Auth0 Custom Webhook log stream.
 *
 * This file only decides who may post and how much, and turns the delivery's
 * outcome into a status Auth0 acts on; parsing, ordering, deduplication and
 * shipping are the log-stream stages (src/log-stream/).
 *
 *   200  every record shipped and confirmed, filtered out, or already shipped
 *   400  the body is not log records in any of Auth0's three formats (nothing shipped)
 *   401  no token, or the wrong one (no detail; repeated failures answered slower)
 *   404  the endpoint is off (LOG_STREAM_TOKEN is not set)
 *   413  the body is larger than 10 MB (nothing shipped)
 *   503  Papertrail or the record of shipped ids failed: nothing of the request
 *        counts as shipped, Retry-After asks Auth0 to send it again
 *
 * It is mounted before the app's JSON parser: it reads the raw text itself,
 * with its own limit, and only after the token checked out.
 */
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { SinkError, StorageError, StreamBodyError, toErrorRecord } from '../errors';
import type { LogStream } from '../log-stream/log-stream';
import { noMetrics, type Logger, type Metrics } from '../ports';
import { sameSecret } from './access';

export const LOG_STREAM_PATH = '/log-stream';
/** Auth0 does not document its batch size; 10 MB holds thousands of events of the largest kind. */
export const MAX_STREAM_BODY_BYTES = 10 * 1024 * 1024;
/** What a 503 asks of Auth0; its own backoff may wait longer. */
export const RETRY_AFTER_SECONDS = 10;

export interface LogStreamRouteOptions {
  stream: LogStream | undefined;
  log: Logger;
  now: () => number;
  /** Requests by the status answered and records by outcome, counted per request. */
  metrics?: Metrics;
}

/**
 * The token as Auth0 sends it: the stream's "Authorization Token" verbatim,
 * which users enter either as the bare token or as "Bearer <token>".
 */
export function presentedToken(header: string | undefined): string {
  const value = (header ?? '').trim();
  return /^Bearer\s+(\S+)$/i.exec(value)?.[1] ?? value;
}

/**
 * Slows down an address that keeps presenting wrong tokens: after a few
 * failures within the window, each further 401 is delayed, doubling up to a
 * cap. A right token is never delayed, so a sender sharing an address with a
 * guesser is not locked out.
 */
export class FailureThrottle {
  private readonly failures = new Map<string, { count: number; since: number }>();

  constructor(
    private readonly now: () => number,
    private readonly free = 3,
    private readonly windowMs = 10 * 60_000,
    private readonly maxDelayMs = 10_000,
    private readonly maxAddresses = 10_000,
  ) {}

  /** Records a failure from `address`; returns how long to wait before answering. */
  fail(address: string): number {
    const t = this.now();
    let entry = this.failures.get(address);
    if (!entry || t - entry.since > this.windowMs) entry = { count: 0, since: t };
    entry.count++;
    this.failures.delete(address);
    this.failures.set(address, entry);
    if (this.failures.size > this.maxAddresses) {
      const oldest = this.failures.keys().next().value;
      if (oldest !== undefined) this.failures.delete(oldest);
    }
    const over = entry.count - this.free;
    return over <= 0 ? 0 : Math.min(this.maxDelayMs, 250 * 2 ** (over - 1));
  }
}

function failed(res: Response, status: number, code: string, message: string): void {
  res.status(status).json({ status: 'failed', error: { code, message } });
}

export function logStreamRoutes(options: LogStreamRouteOptions): Router {
  const router = Router();
  const { stream, log } = options;
  if (!stream) {
    router.post(LOG_STREAM_PATH, (_req, res) => {
      failed(res, 404, 'LOG_STREAM_OFF', 'The log stream endpoint is off: set LOG_STREAM_TOKEN to enable it.');
    });
    return router;
  }
  const throttle = new FailureThrottle(options.now);
  const metrics = options.metrics ?? noMetrics;

  // Counted when the answer is sent, so every status below (and the body reader's) is counted once.
  const countStatus = (_req: Request, res: Response, next: NextFunction): void => {
    res.once('finish', () => metrics.streamRequest(res.statusCode));
    next();
  };

  const authenticate = (req: Request, res: Response, next: NextFunction): void => {
    if (sameSecret(presentedToken(req.get('authorization')), stream.token)) {
      next();
      return;
    }
    stream.activity.rejected();
    const delay = throttle.fail(req.socket.remoteAddress ?? 'unknown');
    // The body is read and thrown away, so the answer reaches a sender still writing it.
    req.resume();
    const answer = (): void => {
      res.status(401).json({ status: 'unauthorized' });
    };
    if (delay === 0) answer();
    else setTimeout(answer, delay).unref();
  };

  const readText = express.text({ type: () => true, limit: MAX_STREAM_BODY_BYTES, defaultCharset: 'utf-8' });

  router.post(LOG_STREAM_PATH, countStatus, authenticate, readText, async (req: Request, res: Response) => {
    const body = typeof req.body === 'string' ? req.body : '';
    try {
      const outcome = await stream.receive(body);
      metrics.streamDelivered({ fetched: outcome.records, exported: outcome.exported, filteredOut: outcome.filteredOut, truncated: outcome.truncated, alreadyShipped: outcome.alreadyShipped + outcome.repeatedInRequest });
      res.status(200).json({
        status: 'ok',
        records: outcome.records,
        shipped: outcome.exported,
        filteredOut: outcome.filteredOut,
        alreadyShipped: outcome.alreadyShipped + outcome.repeatedInRequest,
        withoutLogId: outcome.withoutLogId,
      });
    } catch (error) {
      if (error instanceof StreamBodyError) {
        stream.activity.rejected();
        failed(res, 400, error.code, error.message);
        return;
      }
      stream.activity.failed();
      const record = toErrorRecord(error);
      log.warn(`log stream: delivery not confirmed, answered 503 so Auth0 sends it again: ${record.message}`);
      const what = error instanceof SinkError ? 'Papertrail did not confirm delivery' : error instanceof StorageError ? 'the record of shipped logs could not be read or written' : 'the delivery failed';
      res.set('retry-after', String(RETRY_AFTER_SECONDS));
      failed(res, 503, record.code, `Not delivered: ${what}. Nothing in this request counts as shipped; send it again.`);
    }
  });

  // Errors of the body reader: too large, aborted, an encoding it cannot decode.
  router.use(LOG_STREAM_PATH, (error: unknown, _req: Request, res: Response, next: NextFunction) => {
    const type = (error as { type?: string }).type;
    if (type === undefined) {
      next(error);
      return;
    }
    stream.activity.rejected();
    if (type === 'entity.too.large') {
      failed(res.set('connection', 'close'), 413, 'STREAM_BODY_TOO_LARGE', `The body is larger than ${MAX_STREAM_BODY_BYTES} bytes (10 MB), the most one request may carry. Nothing was shipped.`);
    } else if (type === 'encoding.unsupported' || type === 'charset.unsupported') {
      failed(res, 415, 'STREAM_BAD_ENCODING', 'The body\'s Content-Encoding or charset is not supported; send UTF-8 JSON, optionally gzip or deflate encoded. Nothing was shipped.');
    } else {
      failed(res, 400, 'STREAM_BAD_BODY', 'The body could not be read. Nothing was shipped.');
    }
  });
  return router;
}
