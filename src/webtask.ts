/**
 * The Auth0 Extension (webtask) entry: `module.exports` is the
 * (context, req, res) function the webtask runtime calls.
 *
 * Settings come from the secrets of each request's context, never cached
 * across requests: a warm container sees a changed secret on the next run.
 * State lives in ctx.storage, behind the same StateStore as the standalone databases.
 */
import type { Request } from 'express';
import { fromExpress } from 'webtask-tools';
import { loadConfig, webhookSecrets, type Environment } from './config';
import { createApp } from './http/app';
import { createAdapters } from './runtime/compose';
import { createLogger } from './runtime/logger';
import { createRedactor } from './runtime/redact';
import { SETTINGS } from './settings';
import { WebtaskStateStore, type WebtaskStorage } from './storage/webtask-state-store';

interface WebtaskContext {
  secrets?: Record<string, string | undefined>;
  storage: WebtaskStorage;
}

function contextOf(req: Request): WebtaskContext {
  const context = (req as Request & { webtaskContext?: WebtaskContext }).webtaskContext;
  if (!context?.storage) throw new Error('Not running under a webtask runtime: the request has no webtask context.');
  return context;
}

const app = createApp({
  scope: (req) => {
    const context = contextOf(req);
    const env: Environment = { ...context.secrets };
    const store = new WebtaskStateStore(context.storage);
    // Realtime logs show console output.
    // Every secret setting, as given: even one the parser would reject never reaches the realtime logs.
    // A webhook URL's path is masked on its own too (see webhookSecrets).
    const secrets = [...SETTINGS.filter((s) => s.secret === true).map((s) => env[s.name]), ...webhookSecrets((env['SLACK_INCOMING_WEBHOOK_URL'] ?? '').trim())];
    const log = createLogger({ stream: 'console', redact: createRedactor(secrets) });
    return {
      config: () => loadConfig(env, 'webtask'),
      store,
      log,
      createDeps: (config) => createAdapters(config, { store, log }),
      runOptions: {},
    };
  },
});

module.exports = fromExpress(app);
