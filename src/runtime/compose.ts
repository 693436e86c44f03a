/**
 * The composition root: builds the real adapters for a validated Config.
 * Everything environment-specific (which store, which logger) is a parameter.
 */
import { ManagementApiClient, type RateLimitStatus } from '../auth0/management-api-client';
import { createHttpsTransport } from '../auth0/http';
import { systemClock } from '../clock';
import type { Config } from '../config';
import { TlsSyslogSink } from '../papertrail/tls-syslog-sink';
import type { Clock, Logger, ShippedIds, StateStore } from '../ports';
import type { RunDeps } from '../run-once';

export interface Adapters {
  deps: RunDeps;
  /** What the last Auth0 response said about the logs bucket; null before the first. */
  rateLimit(): RateLimitStatus | null;
  dispose(): void;
}

/** A sink for one run: runs close their sink when they end. */
export function createSink(config: Config, clock: Clock = systemClock): TlsSyslogSink {
  return new TlsSyslogSink({ host: config.papertrail.host, port: config.papertrail.port, clock });
}

export function createAdapters(config: Config, options: { store: StateStore; shipped?: ShippedIds; log: Logger; clock?: Clock }): Adapters {
  const clock = options.clock ?? systemClock;
  const transport = createHttpsTransport();
  const auth0 = new ManagementApiClient({
    domain: config.auth0.domain,
    clientId: config.auth0.clientId,
    clientSecret: config.auth0.clientSecret,
    transport,
    clock,
    onWait: (reason, ms) => options.log.info(`waiting ${Math.round(ms)} ms: ${reason}`),
  });
  const sink = createSink(config, clock);
  return {
    deps: { store: options.store, ...(options.shipped ? { shipped: options.shipped } : {}), auth0, sink, clock, log: options.log },
    rateLimit: () => {
      const status = auth0.rateLimitStatus();
      return status.at === 0 ? null : status;
    },
    dispose: () => transport.close(),
  };
}
