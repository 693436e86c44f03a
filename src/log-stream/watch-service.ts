/**
 * The stream watch as `serve` runs it: its own Management API client (the
 * same credentials; its requests counted in auth0_requests_total as
 * `log-streams`), a reading at start and every LOG_STREAM_STATUS_SECONDS,
 * and nothing started once the service is shutting down.
 */
import { createHttpsTransport } from '../auth0/http';
import { LogStreamsApi } from '../auth0/log-streams-api';
import { ManagementApiClient } from '../auth0/management-api-client';
import { SlackWebhookNotifier } from '../alerts/slack-webhook-notifier';
import { systemClock } from '../clock';
import type { Config } from '../config';
import type { Logger, Metrics, StateStore } from '../ports';
import type { LogStreamSettings } from './settings';
import { StreamWatch } from './stream-watch';

/** A reading gets at most this long, retries included. */
const CHECK_BUDGET_MS = 60_000;

export interface RunningWatch {
  watch: StreamWatch;
  /** Stops the timer; resolves once a reading in flight has ended. */
  stop(): Promise<void>;
}

export function startStreamWatch(
  config: Config,
  settings: LogStreamSettings & { token: string },
  deps: { store: StateStore; log: Logger; metrics: Metrics; sinkHealth(): { lastConfirmedAt: number | null; lastFailedAt: number | null } },
): RunningWatch {
  const transport = createHttpsTransport();
  const client = new ManagementApiClient({
    domain: config.auth0.domain, clientId: config.auth0.clientId, clientSecret: config.auth0.clientSecret, transport, clock: systemClock, metrics: deps.metrics,
  });
  const stopping = new AbortController();
  const api = new LogStreamsApi(client, () => ({ deadline: systemClock.now() + Math.min(CHECK_BUDGET_MS, settings.statusIntervalMs), signal: stopping.signal }));
  const notifier = config.alerts.webhookUrl === null ? undefined : new SlackWebhookNotifier({ url: config.alerts.webhookUrl, context: { tenant: config.auth0.domain } });
  const watch = new StreamWatch({
    api, store: deps.store, notifier, log: deps.log, metrics: deps.metrics, clock: systemClock, sinkHealth: deps.sinkHealth,
    // The status can wait; a page of logs cannot: leave Auth0's last request in the bucket to the poller.
    budgetAllows: () => {
      const remaining = client.rateLimitStatus().remaining;
      return remaining === null || remaining > 1;
    },
  }, { id: settings.id, token: settings.token, intervalMs: settings.statusIntervalMs, autoResume: settings.autoResume });

  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> = Promise.resolve();
  const tick = (): void => {
    if (stopping.signal.aborted) return;
    inFlight = watch.check().finally(() => {
      if (!stopping.signal.aborted) timer = setTimeout(tick, settings.statusIntervalMs);
    });
  };
  tick();
  return {
    watch,
    stop: async () => {
      stopping.abort();
      if (timer) clearTimeout(timer);
      await inFlight.catch(() => undefined);
      transport.close();
    },
  };
}
