/**
 * The composition root: builds the real adapters for a validated Config.
 * Everything environment-specific (which store, which logger) is a parameter.
 */
import { ManagementApiClient } from '../auth0/management-api-client';
import { createHttpsTransport } from '../auth0/http';
import { systemClock } from '../clock';
import type { Config } from '../config';
import { SlackWebhookNotifier } from '../alerts/slack-webhook-notifier';
import { measuredSink } from '../metrics/measured-sink';
import { TlsSyslogSink } from '../papertrail/tls-syslog-sink';
import { noMetrics, type Clock, type Logger, type Metrics, type ShippedIds, type StateStore } from '../ports';
import type { RunDeps } from '../run-once';

export interface Adapters {
  deps: RunDeps;
  dispose(): void;
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
  const sink = measuredSink(new TlsSyslogSink({ host: config.papertrail.host, port: config.papertrail.port, clock }), metrics);
  const notifier = config.alerts.webhookUrl === null ? undefined : new SlackWebhookNotifier({ url: config.alerts.webhookUrl, context: { tenant: config.auth0.domain } });
  return {
    deps: { store: options.store, ...(options.shipped ? { shipped: options.shipped } : {}), auth0, sink, clock, log: options.log, notifier, metrics },
    dispose: () => transport.close(),
  };
}
