/**
 * GET /health (public: last success, lag, whether a run is active, paused, and
 * in the service the next scheduled run) and GET / for JSON callers (what is
 * here; browsers get the dashboard from dashboard-routes).
 */
import { Router } from 'express';
import type { LogStreamActivity, SharedStreamActivity } from '../log-stream/activity';
import { lastSuccessfulLag } from '../alerts/alert-rules';
import { isLeaseHeld } from '../storage/state';
import type { ScopedHandlers } from './access';

/** What every deployment answers; the service adds GET /metrics and, with a log stream, POST /log-stream. */
export const ENDPOINTS = ['POST /', 'POST /run', 'GET /health', 'GET /runs', 'POST /reset', 'POST /pause', 'POST /resume', 'POST /check'];

/**
 * `nextRunAt` in the service; `logStream` when the service receives one: its
 * activity is part of the health, and a stream gone silent while the poller
 * fills gaps is failing.
 */
export function healthRoutes({ withConfig }: ScopedHandlers, now: () => number, nextRunAt?: () => string | null, logStream?: { snapshot(shared?: SharedStreamActivity | null): LogStreamActivity }, endpoints: readonly string[] = ENDPOINTS): Router {
  const router = Router();
  router.get('/health', withConfig(async (_req, res, scope, config) => {
    const state = await scope.store.read();
    const last = state.runs.at(-1);
    const t = now();
    // Judged from the shared state just read: every replica answers the same.
    const stream = logStream?.snapshot(state.streamActivity);
    // A run that lost its lease stopped because another run took over: the health is that run's to tell.
    const judged = state.runs.findLast((run) => run.status !== 'lease-lost');
    const runs = judged === undefined ? 'idle' : judged.status === 'ok' ? 'ok' : 'failing';
    // Pages in doubt waiting to be shipped again, recorded in the state or (the service) a take-back no run could
    // write yet, kept in memory and retried: not ok until a run has shipped them.
    const unwritten = scope.runOptions.pendingTakeBacks?.waiting ?? [];
    const waiting = state.reship !== null || unwritten.length > 0 ? 'reship-pending' : runs;
    res.json({
      // A stream Auth0 paused or suspended sends nothing: as failing as a silent one, though the poller ships on.
      status: stream?.status === 'silent' || stream?.auth0?.status === 'paused' || stream?.auth0?.status === 'suspended' ? 'failing' : waiting,
      running: isLeaseHeld(state.lease, t),
      paused: state.paused,
      lastRunAt: last?.startedAt ?? null,
      lastSuccessAt: state.lastSuccessAt,
      ...(state.reship !== null ? { reshipPending: state.reship } : {}),
      ...(unwritten.length > 0 ? { takeBackPending: unwritten } : {}),
      // The lag /metrics and the alerts mean: how far behind the last successful run stopped, 0 when it caught up.
      lagSeconds: lastSuccessfulLag(state.runs),
      // The age of the newest log exported: on a quiet tenant it grows while nothing is behind.
      newestExportedAgeSeconds: state.newestExportedDate === null ? null : Math.max(0, Math.round((t - Date.parse(state.newestExportedDate)) / 1000)),
      // Whether GET /runs answers without the admin token, so a page asks only for what its visitor may see.
      historyOpen: config.adminToken === null,
      // Whether GET /progress (the live view, for administrators) exists here.
      liveProgress: endpoints.includes('GET /progress'),
      ...(nextRunAt === undefined ? {} : { nextRunAt: nextRunAt() }),
      ...(stream ? { logStream: stream } : {}),
    });
  }));

  router.get('/', (_req, res) => {
    res.json({ name: 'auth0-logs-to-papertrail', endpoints });
  });
  return router;
}

