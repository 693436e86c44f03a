/**
 * Who is calling, and the wrappers every route group builds its handlers
 * with: resolve the request's scope and settings (400 for bad settings), and
 * require the admin token where a route changes or reveals state.
 */
import { timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { secretValues, type Config } from '../config';
import { isConfigError } from '../errors';
import type { Logger, ShippedIds, StateStore } from '../ports';
import type { RunOptions } from '../run-export';
import type { RunDeps } from '../run-once';
import { createRedactor, type Redactor } from '../runtime/redact';

/** What one request works with. The webtask builds it from that request's secrets and storage. */
export interface RequestScope {
  /** Throws ConfigError for invalid settings. */
  config(): Config;
  store: StateStore;
  log: Logger;
  createDeps(config: Config): { deps: RunDeps; dispose(): void };
  /** The record of shipped ids runs skip by (standalone); a reset empties it, so the replay ships. */
  shipped?: ShippedIds;
  /** The service's also carry the take-backs no run could write, which /health reports while they wait. */
  runOptions: Pick<RunOptions, 'signal' | 'pendingTakeBacks'>;
}

export type Access = 'admin' | 'open';

export type ScopedHandler = (req: Request, res: Response, scope: RequestScope, config: Config, redact: Redactor) => Promise<void>;
export type Middleware = (req: Request, res: Response, next: NextFunction) => void;

function bearer(req: Request): string | undefined {
  const header = req.get('authorization') ?? '';
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  return match?.[1];
}

/** Constant-time comparison, so a caller cannot learn a secret from response times. */
export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function accessOf(req: Request, config: Config): Access {
  const token = bearer(req);
  return config.adminToken !== null && token !== undefined && sameSecret(token, config.adminToken) ? 'admin' : 'open';
}

/** Builds handlers that get the request's scope and settings; bad settings answer 400 naming them. */
export function scopedHandlers(scopeOf: (req: Request) => RequestScope) {
  const withConfig = (handler: ScopedHandler): Middleware =>
    (req, res, next) => {
      let scope: RequestScope;
      let config: Config;
      try {
        scope = scopeOf(req);
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

  /** Routes that change or reveal state: 403 until ADMIN_TOKEN is set, then 401 without it. */
  const adminOnly = (handler: ScopedHandler): Middleware =>
    withConfig(async (req, res, scope, config, redact) => {
      if (config.adminToken === null) {
        res.status(403).json({ status: 'forbidden', reason: 'set ADMIN_TOKEN to enable this endpoint' });
        return;
      }
      if (accessOf(req, config) !== 'admin') {
        res.status(401).json({ status: 'unauthorized' });
        return;
      }
      await handler(req, res, scope, config, redact);
    });

  return { withConfig, adminOnly };
}

export type ScopedHandlers = ReturnType<typeof scopedHandlers>;
