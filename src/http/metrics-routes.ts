/**
 * GET /metrics (the service only): the Prometheus text format, from prom-client.
 *
 * Who may read it: with METRICS_TOKEN set, a bearer of it (a read-only
 * credential for the scraper) or of ADMIN_TOKEN; otherwise, with ADMIN_TOKEN
 * set, its bearer; with neither, anyone, as for GET /runs. The metrics hold
 * counts, durations and times, never a secret, a checkpoint or a log.
 */
import { Router } from 'express';
import { sameSecret, type ScopedHandlers } from './access';

export interface MetricsSource {
  exposition(): Promise<{ contentType: string; body: string }>;
  /** METRICS_TOKEN; null when not set. */
  token: string | null;
}

export function metricsRoutes({ withConfig }: ScopedHandlers, source: MetricsSource): Router {
  const router = Router();
  router.get('/metrics', withConfig(async (req, res, _scope, config) => {
    const accepted = [source.token, config.adminToken].filter((t): t is string => t !== null);
    if (accepted.length > 0) {
      const given = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '')?.[1];
      if (given === undefined || !accepted.some((t) => sameSecret(given, t))) {
        res.status(401).set('www-authenticate', 'Bearer').json({ status: 'unauthorized' });
        return;
      }
    }
    const { contentType, body } = await source.exposition();
    res.status(200).set('content-type', contentType).set('cache-control', 'no-store').send(body);
  }));
  return router;
}
