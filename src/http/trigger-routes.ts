/**
 * POST / (the webtask cron posts its job record here, or a manual trigger)
 * and POST /run. Without the admin token a trigger can do no harm: runs never
 * overlap (lease), one open trigger per interval, and the answer carries
 * status and counts only.
 */
import { Router, type Request } from 'express';
import { RunInProgressError, type ErrorRecord } from '../errors';
import { runExport, type ExportResult } from '../run-export';
import { accessOf, type ScopedHandlers } from './access';
import { summary } from './run-summary';

export interface TriggerOptions {
  /** Minimum time between runs started without the admin token. */
  minOpenTriggerIntervalMs: number;
  /** Lets the service wait for runs in flight on shutdown. */
  track?: ((run: Promise<unknown>) => void) | undefined;
  now: () => number;
}

function isCronRecord(body: unknown): boolean {
  const b = body as { schedule?: unknown; state?: unknown } | undefined;
  return typeof b?.schedule === 'string' && b.state === 'active';
}

function failureStatus(error: ErrorRecord | undefined): number {
  if (!error) return 500;
  if (error.code === 'CONFIG_INVALID') return 400;
  // Another run took the lease during this one, which stopped: a conflict, as for a run turned away.
  if (error.code === 'LEASE_LOST') return 409;
  if (error.name === 'SinkError' || error.name === 'Auth0ApiError') return 502;
  return 500;
}

export function triggerRoutes({ withConfig }: ScopedHandlers, options: TriggerOptions): Router {
  const { now } = options;
  const trigger = withConfig(async (req: Request, res, scope, config, redact) => {
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
        tooSoon = last + options.minOpenTriggerIntervalMs - now();
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

  const router = Router();
  router.post('/', trigger);
  router.post('/run', trigger);
  return router;
}
