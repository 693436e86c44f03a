/**
 * The HTTP face shared by the webtask extension and the service, composed
 * from one file per route group:
 *
 *   trigger-routes   POST /, POST /run     cron or manual trigger
 *   dashboard-routes GET / (browsers)      the dashboard page, its script, stylesheet and icon
 *   health-routes    GET /health, GET /    public status, what is here (JSON)
 *   log-stream-routes POST /log-stream     an Auth0 log stream's deliveries (service only)
 *   control-routes   GET /runs             run history
 *                    POST /reset           move the checkpoint on purpose (recorded in the history)
 *                    POST /pause, /resume  the service's equivalent of the extension's State switch
 *   metrics-routes   GET /metrics          Prometheus metrics (the service only)
 *   progress-routes  GET /progress         the live view of progress lines (the service only)
 *
 * Threat model (see README, "Security"): the URL may be reachable by anyone and
 * the platform's cron call carries no identity we can verify. So an
 * unauthenticated trigger can never do harm: runs never overlap (lease), a run
 * only ships what is not yet shipped, open triggers are limited to one per
 * interval, and their responses carry status and counts only. With ADMIN_TOKEN
 * set, everything else requires `Authorization: Bearer <ADMIN_TOKEN>`.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import { toErrorRecord } from '../errors';
import { scopedHandlers, type RequestScope } from './access';
import { checkRoutes } from './check-routes';
import { controlRoutes } from './control-routes';
import { dashboardRoutes } from './dashboard-routes';
import { ENDPOINTS, healthRoutes } from './health-routes';
import { LOG_STREAM_PATH, logStreamRoutes, type LogStreamRouteOptions } from './log-stream-routes';
import { metricsRoutes, type MetricsSource } from './metrics-routes';
import { PROGRESS_PATH, progressRoutes } from './progress-routes';
import type { ProgressFeed } from '../runtime/progress-feed';
import { triggerRoutes } from './trigger-routes';

export type { RequestScope } from './access';

export interface AppOptions {
  scope(req: Request): RequestScope;
  /** Minimum time between runs started without the admin token. */
  minOpenTriggerIntervalMs?: number;
  /** Lets the service wait for runs in flight on shutdown. */
  track?: (run: Promise<unknown>) => void;
  clock?: () => number;
  /** The service's next scheduled run (ISO time), shown by /health and the dashboard; absent under webtask. */
  nextRunAt?: () => string | null;
  /** The service's log stream endpoint; absent under webtask, which has no stream. */
  logStream?: Omit<LogStreamRouteOptions, 'now'>;
  /** The service's metrics; the extension has none. */
  metrics?: MetricsSource;
  /** The service's recent progress lines, for the dashboard's live view; absent under webtask, whose realtime logs show them. */
  progress?: ProgressFeed;
  /** True once the service is shutting down: new requests are turned away, and their connections closed. */
  stopping?: () => boolean;
}

export const DEFAULT_MIN_OPEN_TRIGGER_INTERVAL_MS = 30_000;

/** The JSON body limit of every route but the log stream's. */
const JSON_BODY_LIMIT = '64kb';

/**
 * A request body the JSON parser refused is the caller's mistake: a 4xx that
 * says what to fix, never a 500 logged as ours. The messages are fixed text,
 * so nothing the caller sent is echoed back.
 */
const BODY_ERRORS: Record<string, { status: number; code: string; message: string }> = {
  'entity.parse.failed': { status: 400, code: 'BAD_REQUEST', message: 'The body is not valid JSON.' },
  'entity.too.large': { status: 413, code: 'BODY_TOO_LARGE', message: `The body is larger than ${JSON_BODY_LIMIT}.` },
  'entity.verify.failed': { status: 400, code: 'BAD_REQUEST', message: 'The body was refused.' },
  'request.aborted': { status: 400, code: 'BAD_REQUEST', message: 'The request was aborted before its body arrived.' },
  'request.size.invalid': { status: 400, code: 'BAD_REQUEST', message: 'The body is not as long as its Content-Length says.' },
  'charset.unsupported': { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', message: 'The body must be JSON in UTF-8.' },
  'encoding.unsupported': { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', message: 'The body must be sent with gzip, deflate, br or no Content-Encoding.' },
};

export function createApp(options: AppOptions): express.Express {
  const app = express();
  const now = options.clock ?? Date.now;
  app.disable('x-powered-by');
  if (options.stopping) {
    const stopping = options.stopping;
    // A client that keeps its connection busy would otherwise keep a stopping service alive, and be
    // served new runs. 503 with Retry-After: Auth0 sends a delivery again, to this replica or another.
    app.use((_req, res, next) => {
      if (!stopping()) {
        next();
        return;
      }
      res.set({ Connection: 'close', 'Retry-After': '10' }).status(503).json({ status: 'failed', error: { code: 'SHUTTING_DOWN', message: 'The service is stopping; send this again in a moment.' } });
    });
  }
  // Before the JSON parser: the stream reads its own body, up to 10 MB of raw text.
  if (options.logStream) app.use(logStreamRoutes({ ...options.logStream, now }));

  // Under webtask the runtime may already have parsed the body into the context.
  const parseJson = express.json({ limit: JSON_BODY_LIMIT });
  app.use((req: Request, res: Response, next: NextFunction) => {
    const preParsed = (req as Request & { webtaskContext?: { body?: unknown } }).webtaskContext?.body;
    if (preParsed !== undefined && preParsed !== null) {
      req.body = preParsed;
      next();
      return;
    }
    parseJson(req, res, next);
  });

  const handlers = scopedHandlers(options.scope);
  app.use(triggerRoutes(handlers, {
    minOpenTriggerIntervalMs: options.minOpenTriggerIntervalMs ?? DEFAULT_MIN_OPEN_TRIGGER_INTERVAL_MS,
    track: options.track,
    now,
  }));
  app.use(dashboardRoutes());
  const endpoints = [...ENDPOINTS, ...(options.metrics ? ['GET /metrics'] : []), ...(options.logStream?.stream ? [`POST ${LOG_STREAM_PATH}`] : []), ...(options.progress ? [`GET ${PROGRESS_PATH}`] : [])];
  app.use(healthRoutes(handlers, now, options.nextRunAt, options.logStream?.stream, endpoints));
  app.use(controlRoutes(handlers, now));
  app.use(checkRoutes(handlers));
  if (options.metrics) app.use(metricsRoutes(handlers, options.metrics));
  if (options.progress) app.use(progressRoutes(handlers, options.progress));

  app.use((_req: Request, res: Response) => {
    res.status(404).json({ status: 'failed', error: { code: 'NOT_FOUND', message: 'There is no such endpoint; GET / (as JSON) lists them.' } });
  });

  // Never leak a stack or an internal message to a caller.
  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    const refused = BODY_ERRORS[(error as { type?: string }).type ?? ''];
    if (refused) {
      res.status(refused.status).json({ status: 'failed', error: { code: refused.code, message: refused.message } });
      return;
    }
    const record = toErrorRecord(error);
    try {
      options.scope(req).log.error(`request failed: ${record.message}`);
    } catch {
      // The scope itself failed; nothing more to log with.
    }
    res.status(500).json({ status: 'failed', error: { code: record.code } });
  });

  return app;
}
