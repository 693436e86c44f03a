/**
 * The composition root: builds the real adapters for a validated Config.
 * Everything environment-specific (which store, which logger) is a parameter.
 */
import { ManagementApiClient, type RateLimitStatus } from '../auth0/management-api-client';
import { createHttpsTransport } from '../auth0/http';
import { systemClock } from '../clock';
import type { Config } from '../config';
import { SlackWebhookNotifier } from '../alerts/slack-webhook-notifier';
import { measuredSink } from '../metrics/measured-sink';
import { TlsSyslogSink } from '../papertrail/tls-syslog-sink';
import { noMetrics, type Clock, type Logger, type LogSink, type Metrics, type ShippedIds, type StateStore } from '../ports';
import type { RunDeps } from '../run-once';

export interface Adapters {
  deps: RunDeps;
  /** What the last Auth0 response said about the logs bucket; null before the first. */
  rateLimit(): RateLimitStatus | null;
  dispose(): void;
}

/** A sink for one run (runs close their sink when they end), measured for /metrics. */
export function createSink(config: Config, clock: Clock = systemClock, metrics: Metrics = noMetrics): LogSink {
  return measuredSink(new TlsSyslogSink({ host: config.papertrail.host, port: config.papertrail.port, clock }), metrics);
}

export function createAdapters(config: Config, options: { store: StateStore; shipped?: ShippedIds; log: Logger; clock?: Clock; metrics?: Metrics }): Adapters {
  const clock = options.clock ?? systemClock;
  const metrics = options.metrics ?? noMetrics;
  const transport = createHttpsTransport();
  const auth0 = new ManagementApiClient({
    domain: config.auth0.domain,
    clientId: config.auth0.clientId,
    clientSecret: config.auth0.clientSecret,
    transport,
    clock,
    onWait: (reason, ms) => options.log.info(`waiting ${Math.round(ms)} ms: ${reason}`),
    metrics,
  });
  const sink = createSink(config, clock, metrics);
  const notifier = config.alerts.webhookUrl === null ? undefined : new SlackWebhookNotifier({ url: config.alerts.webhookUrl, context: { tenant: config.auth0.domain } });
  return {
    deps: { store: options.store, ...(options.shipped ? { shipped: options.shipped } : {}), auth0, sink, clock, log: options.log, notifier, metrics },
    rateLimit: () => {
      const status = auth0.rateLimitStatus();
      return status.at === 0 ? null : status;
    },
    dispose: () => transport.close(),
  };
}
