/**
 * The HTTP face shared by the webtask extension and the service.
 *
 *   POST /            cron trigger (the webtask cron posts its job record here) or manual trigger
 *   POST /run         manual trigger
 *   GET  /health      public: last success, lag, whether a run is active, paused
 *   GET  /runs        run history
 *   POST /reset       move the checkpoint on purpose (recorded in the history)
 *   POST /pause, /resume   the service's equivalent of the extension's State switch
 *
 * Threat model (see README, "Security"): the URL may be reachable by anyone and
 * the platform's cron call carries no identity we can verify. So an
 * unauthenticated trigger can never do harm: runs never overlap (lease), a run
 * only ships what is not yet shipped, open triggers are limited to one per
 * interval, and their responses carry status and counts only. With ADMIN_TOKEN
 * set, everything else requires `Authorization: Bearer <ADMIN_TOKEN>`.
 */
import { timingSafeEqual } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import { secretValues, type Config } from '../config';
import { isConfigError, RunInProgressError, toErrorRecord, type ErrorRecord } from '../errors';
import type { Logger, StateStore } from '../ports';
import { runExport, type ExportResult, type RunOptions } from '../run-export';
import type { RunDeps } from '../run-once';
import { createRedactor, type Redactor } from '../runtime/redact';
import { isLeaseHeld, RUN_HISTORY_LIMIT, type RunRecord, type StateDocument } from '../storage/state';

/** What one request works with. The webtask builds it from that request's secrets and storage. */
export interface RequestScope {
  /** Throws ConfigError for invalid settings. */
  config(): Config;
  store: StateStore;
  log: Logger;
  createDeps(config: Config): { deps: RunDeps; dispose(): void };
  runOptions: Pick<RunOptions, 'holder' | 'isStale' | 'signal'>;
}

export interface AppOptions {
  scope(req: Request): RequestScope;
  /** Minimum time between runs started without the admin token. */
  minOpenTriggerIntervalMs?: number;
  /** Lets the service wait for runs in flight on shutdown. */
  track?: (run: Promise<unknown>) => void;
  clock?: () => number;
}

export const DEFAULT_MIN_OPEN_TRIGGER_INTERVAL_MS = 30_000;

type Access = 'admin' | 'open';

function isCronRecord(body: unknown): boolean {
  const b = body as { schedule?: unknown; state?: unknown } | undefined;
  return typeof b?.schedule === 'string' && b.state === 'active';
}

function bearer(req: Request): string | undefined {
  const header = req.get('authorization') ?? '';
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  return match?.[1];
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function accessOf(req: Request, config: Config): Access {
  const token = bearer(req);
  return config.adminToken !== null && token !== undefined && sameSecret(token, config.adminToken) ? 'admin' : 'open';
}

/** What an unauthenticated caller may see of a run: status and counts. */
function summary(result: { status: string; fetched: number; exported: number; filteredOut: number; truncated: number; pages: number; stoppedBy: string; durationMs: number; error?: ErrorRecord | undefined; runId?: string }) {
  return {
    status: result.status,
    ...(result.runId === undefined ? {} : { runId: result.runId }),
    fetched: result.fetched,
    exported: result.exported,
    filteredOut: result.filteredOut,
    truncated: result.truncated,
    pages: result.pages,
    stoppedBy: result.stoppedBy,
    durationMs: result.durationMs,
    ...(result.error ? { error: { code: result.error.code } } : {}),
  };
}

function failureStatus(error: ErrorRecord | undefined): number {
  if (!error) return 500;
  if (error.code === 'CONFIG_INVALID') return 400;
  if (error.name === 'SinkError' || error.name === 'Auth0ApiError') return 502;
  return 500;
}

export function createApp(options: AppOptions): express.Express {
  const app = express();
  const now = options.clock ?? Date.now;
  const minInterval = options.minOpenTriggerIntervalMs ?? DEFAULT_MIN_OPEN_TRIGGER_INTERVAL_MS;
  app.disable('x-powered-by');

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

  /** Resolves the scope and config, answering 400 for bad settings. */
  const withConfig = (handler: (req: Request, res: Response, scope: RequestScope, config: Config, redact: Redactor) => Promise<void>) =>
    (req: Request, res: Response, next: NextFunction) => {
      let scope: RequestScope;
      let config: Config;
      try {
        scope = options.scope(req);
      } catch (error) {
        next(error);
        return;
      }
      try {
        config = scope.config();
      } catch (error) {
        if (!isConfigError(error)) {
          next(error);
          return;
        }
        // Values can be sensitive (a mistyped secret); callers see which settings, the logs say why.
        scope.log.error(error.message);
        res.status(400).json({ status: 'failed', error: { code: error.code, settings: error.problems.map((p) => p.setting) } });
        return;
      }
      handler(req, res, scope, config, createRedactor(secretValues(config))).catch(next);
    };

  const trigger = withConfig(async (req, res, scope, config, redact) => {
    const access = accessOf(req, config);
    const cron = isCronRecord(req.body);
    if (!cron && config.adminToken !== null && access !== 'admin') {
      res.status(401).json({ status: 'unauthorized' });
      return;
    }
    const state = await scope.store.read();
    if (state.paused) {
      res.status(409).json({ status: 'paused' });
      return;
    }
    if (access !== 'admin') {
      // One open trigger per interval, decided atomically so two callers cannot both pass.
      let tooSoon = 0;
      await scope.store.update((current) => {
        const last = current.lastOpenTriggerAt ?? 0;
        tooSoon = last + minInterval - now();
        return tooSoon > 0 ? current : { ...current, lastOpenTriggerAt: now() };
      });
      if (tooSoon > 0) {
        res.status(429).set('retry-after', String(Math.ceil(tooSoon / 1000))).json({ status: 'too-soon' });
        return;
      }
    }
    const { deps, dispose } = scope.createDeps(config);
    const run = runExport(deps, config, { trigger: cron ? 'cron' : 'manual', redact, ...scope.runOptions });
    options.track?.(run);
    let result: ExportResult;
    try {
      result = await run;
    } catch (error) {
      if (error instanceof RunInProgressError) {
        res.status(409).json({ status: 'skipped', reason: 'another run is in progress' });
        return;
      }
      throw error;
    } finally {
      dispose();
    }
    const status = result.status === 'ok' ? 200 : failureStatus(result.error);
    res.status(status).json(access === 'admin' ? result : summary(result));
  });
  app.post('/', trigger);
  app.post('/run', trigger);

  app.get('/health', withConfig(async (_req, res, scope) => {
    const state = await scope.store.read();
    const last = state.runs.at(-1);
    const t = now();
    res.json({
      status: last === undefined ? 'idle' : last.status === 'ok' ? 'ok' : 'failing',
      running: isLeaseHeld(state.lease, t, scope.runOptions.isStale),
      paused: state.paused,
      lastRunAt: last?.startedAt ?? null,
      lastSuccessAt: state.lastSuccessAt,
      lagSeconds: state.newestExportedDate === null ? null : Math.max(0, Math.round((t - Date.parse(state.newestExportedDate)) / 1000)),
    });
  }));

  app.get('/runs', withConfig(async (req, res, scope, config) => {
    const access = accessOf(req, config);
    if (config.adminToken !== null && access !== 'admin') {
      res.status(401).json({ status: 'unauthorized' });
      return;
    }
    const state = await scope.store.read();
    const runs = [...state.runs].reverse();
    if (access === 'admin') res.json({ checkpoint: state.checkpoint, paused: state.paused, runs });
    else res.json({ runs: runs.map((r) => ({ id: r.id, trigger: r.trigger, startedAt: r.startedAt, ...summary(r) })) });
  }));

  const adminOnly = (handler: (req: Request, res: Response, scope: RequestScope, config: Config) => Promise<void>) =>
    withConfig(async (req, res, scope, config) => {
      if (config.adminToken === null) {
        res.status(403).json({ status: 'forbidden', reason: 'set ADMIN_TOKEN to enable this endpoint' });
        return;
      }
      if (accessOf(req, config) !== 'admin') {
        res.status(401).json({ status: 'unauthorized' });
        return;
      }
      await handler(req, res, scope, config);
    });

  app.post('/reset', adminOnly(async (req, res, scope) => {
    const to = (req.body as { checkpoint?: unknown } | undefined)?.checkpoint;
    if (to !== null && (typeof to !== 'string' || !/^[A-Za-z0-9]{1,128}$/.test(to))) {
      res.status(400).json({ status: 'failed', error: { code: 'BAD_REQUEST', message: 'Send {"checkpoint": "<log_id>"} to continue after that log, or {"checkpoint": null} to restart from the oldest retained log.' } });
      return;
    }
    const t = now();
    let refused = false;
    const state = await scope.store.update((current) => {
      if (isLeaseHeld(current.lease, t, scope.runOptions.isStale)) {
        refused = true;
        return current;
      }
      const record: RunRecord = {
        id: `reset-${t}`, trigger: 'reset', status: 'ok', startedAt: new Date(t).toISOString(), finishedAt: new Date(t).toISOString(), durationMs: 0,
        startCheckpoint: current.checkpoint, checkpoint: to, fetched: 0, exported: 0, filteredOut: 0, truncated: 0, pages: 0,
        stoppedBy: 'reset', lagSeconds: null,
        warnings: [`checkpoint reset by an administrator from ${current.checkpoint ?? 'none'} to ${to ?? 'the oldest retained log'}`],
      };
      return { ...current, checkpoint: to, runs: [...current.runs, record].slice(-RUN_HISTORY_LIMIT) };
    });
    if (refused) {
      res.status(409).json({ status: 'skipped', reason: 'a run is in progress; reset when it has finished' });
      return;
    }
    scope.log.warn(`checkpoint reset to ${to ?? 'the oldest retained log'}`);
    res.json({ status: 'ok', checkpoint: state.checkpoint });
  }));

  const setPaused = (paused: boolean) =>
    adminOnly(async (_req, res, scope) => {
      await scope.store.update((current: StateDocument) => ({ ...current, paused }));
      scope.log.info(paused ? 'paused: scheduled and manual runs are off' : 'resumed');
      res.json({ status: 'ok', paused });
    });
  app.post('/pause', setPaused(true));
  app.post('/resume', setPaused(false));

  app.get('/', (_req, res) => {
    res.json({ name: 'auth0-logs-to-papertrail', endpoints: ['POST /', 'POST /run', 'GET /health', 'GET /runs', 'POST /reset', 'POST /pause', 'POST /resume'] });
  });

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

