/**
 * GET /health (public: last success, lag, whether a run is active, paused, and
 * in the service the next scheduled run) and GET / for JSON callers (what is
 * here; browsers get the dashboard from dashboard-routes).
 */
import { Router } from 'express';
import { isLeaseHeld } from '../storage/state';
import type { ScopedHandlers } from './access';

export const ENDPOINTS = ['POST /', 'POST /run', 'GET /health', 'GET /runs', 'POST /reset', 'POST /pause', 'POST /resume'];

export function healthRoutes({ withConfig }: ScopedHandlers, now: () => number, nextRunAt?: () => string | null): Router {
  const router = Router();
  router.get('/health', withConfig(async (_req, res, scope) => {
    const state = await scope.store.read();
    const last = state.runs.at(-1);
    const t = now();
    res.json({
      status: last === undefined ? 'idle' : last.status === 'ok' ? 'ok' : 'failing',
      running: isLeaseHeld(state.lease, t),
      paused: state.paused,
      lastRunAt: last?.startedAt ?? null,
      lastSuccessAt: state.lastSuccessAt,
      lagSeconds: state.newestExportedDate === null ? null : Math.max(0, Math.round((t - Date.parse(state.newestExportedDate)) / 1000)),
      ...(nextRunAt === undefined ? {} : { nextRunAt: nextRunAt() }),
    });
  }));

  router.get('/', (_req, res) => {
    res.json({ name: 'auth0-logs-to-papertrail', endpoints: ENDPOINTS });
  });
  return router;
}
