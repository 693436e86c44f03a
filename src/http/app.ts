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
import { controlRoutes } from './control-routes';
import { dashboardRoutes } from './dashboard-routes';
import { healthRoutes } from './health-routes';
import { logStreamRoutes, type LogStreamRouteOptions } from './log-stream-routes';
import { metricsRoutes, type MetricsSource } from './metrics-routes';
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
}

export const DEFAULT_MIN_OPEN_TRIGGER_INTERVAL_MS = 30_000;

export function createApp(options: AppOptions): express.Express {
  const app = express();
  const now = options.clock ?? Date.now;
  app.disable('x-powered-by');
  // Before the JSON parser: the stream reads its own body, up to 10 MB of raw text.
  if (options.logStream) app.use(logStreamRoutes({ ...options.logStream, now }));

  // Under webtask the runtime may already have parsed the body into the context.
  const parseJson = express.json({ limit: '64kb' });
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
  app.use(healthRoutes(handlers, now, options.nextRunAt, options.logStream?.stream));
  app.use(controlRoutes(handlers, now));
  if (options.metrics) app.use(metricsRoutes(handlers, options.metrics));

  // Never leak a stack or an internal message to a caller.
  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    const record = toErrorRecord(error);
    if ((error as { type?: string }).type === 'entity.parse.failed') {
      res.status(400).json({ status: 'failed', error: { code: 'BAD_REQUEST' } });
      return;
    }
    try {
      options.scope(req).log.error(`request failed: ${record.message}`);
    } catch {
      // The scope itself failed; nothing more to log with.
    }
    res.status(500).json({ status: 'failed', error: { code: record.code } });
  });

  return app;
}
