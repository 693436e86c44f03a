/**
 * GET /runs (the run history; open unless ADMIN_TOKEN is set, and then only
 * to admins; open callers see summaries, with each run's lag as /health shows
 * the current one, for the dashboard's chart) and the admin's controls:
 * POST /reset (move the checkpoint on purpose, recorded in the history) and
 * POST /pause, /resume (the service's equivalent of the extension's State switch).
 */
import { Router } from 'express';
import { forgetShippedIds } from '../storage/retention';
import { isLeaseHeld, RUN_HISTORY_LIMIT, takeLease, type RunRecord, type StateDocument } from '../storage/state';
import { accessOf, type ScopedHandlers } from './access';
import { exportSettingsOf } from './export-settings';
import { summary } from './run-summary';

/** Long enough to empty the record of shipped ids; a reset that dies meanwhile frees the lease this soon. */
const RESET_LEASE_MS = 60_000;

export function controlRoutes({ withConfig, adminOnly }: ScopedHandlers, now: () => number): Router {
  const router = Router();

  router.get('/runs', withConfig(async (req, res, scope, config) => {
    const access = accessOf(req, config);
    if (config.adminToken !== null && access !== 'admin') {
      res.status(401).json({ status: 'unauthorized' });
      return;
    }
    const state = await scope.store.read();
    const runs = [...state.runs].reverse();
    // Which personal data is masked or hashed is a setting: administrators only, like the checkpoint.
    if (access === 'admin') res.json({ checkpoint: state.checkpoint, paused: state.paused, runs, settings: exportSettingsOf(config) });
    else res.json({ runs: runs.map((r) => ({ id: r.id, trigger: r.trigger, startedAt: r.startedAt, ...summary(r), lagSeconds: r.lagSeconds })) });
  }));

  router.post('/reset', adminOnly(async (req, res, scope) => {
    const to = (req.body as { checkpoint?: unknown } | undefined)?.checkpoint;
    if (to !== null && (typeof to !== 'string' || !/^[A-Za-z0-9]{1,128}$/.test(to))) {
      res.status(400).json({ status: 'failed', error: { code: 'BAD_REQUEST', message: 'Send {"checkpoint": "<log_id>"} to continue after that log, or {"checkpoint": null} to restart from the oldest retained log.' } });
      return;
    }
    const t = now();
    const resetId = `reset-${t}`;
    let refused = false;
    const state = await scope.store.update((current) => {
      if (isLeaseHeld(current.lease, t)) {
        refused = true;
        return current;
      }
      const record: RunRecord = {
        id: resetId, trigger: 'reset', status: 'ok', startedAt: new Date(t).toISOString(), finishedAt: new Date(t).toISOString(), durationMs: 0,
        startCheckpoint: current.checkpoint, checkpoint: to, fetched: 0, exported: 0, filteredOut: 0, truncated: 0, pages: 0,
        stoppedBy: 'reset', lagSeconds: null,
        warnings: [`checkpoint reset by an administrator from ${current.checkpoint ?? 'none'} to ${to ?? 'the oldest retained log'}`],
      };
      // The reset holds the run lease until the record of shipped ids is emptied too, so that no run
      // starts in between and skips what the replay is meant to ship again.
      // Taking it (or not) also ends any earlier holder's right to write: a frozen run cannot undo the reset.
      const leased = scope.shipped ? takeLease(current, record.id, t + RESET_LEASE_MS) : { ...current, leaseGeneration: current.leaseGeneration + 1 };
      return { ...leased, checkpoint: to, runs: [...current.runs, record].slice(-RUN_HISTORY_LIMIT) };
    });
    if (refused) {
      res.status(409).json({ status: 'skipped', reason: 'a run is in progress; reset when it has finished' });
      return;
    }
    if (scope.shipped) {
      try {
        await forgetShippedIds(scope.shipped);
      } finally {
        await scope.store.update((current) => (current.lease?.owner === resetId ? { ...current, lease: null } : current));
      }
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
  router.post('/pause', setPaused(true));
  router.post('/resume', setPaused(false));
  return router;
}
