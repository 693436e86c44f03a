/**
 * POST /check (admins only): the same checks as `auth0-logs-to-papertrail
 * check`, on this deployment's settings and state store, for the dashboard's
 * admin view. {"sendTest": true} also sends a test message to Papertrail.
 * Answers the checklist as JSON, 200 whatever it found; never a secret.
 */
import { Router } from 'express';
import { runChecks } from '../check/run-checks';
import type { ScopedHandlers } from './access';

export function checkRoutes({ adminOnly }: ScopedHandlers): Router {
  const router = Router();
  router.post('/check', adminOnly(async (req, res, scope, config, redact) => {
    const sendTest = (req.body as { sendTest?: unknown } | undefined)?.sendTest === true;
    // The request's own store, lent and not closed: the deployment keeps using it.
    const list = await runChecks(config, { sendTest, openStore: () => ({ store: scope.store, description: 'this deployment\'s state store', close: async () => undefined }) });
    res.json(redact(list));
  }));
  return router;
}
