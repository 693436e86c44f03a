/**
 * The composition root: builds the real adapters for a validated Config.
 * Everything environment-specific (which store, which logger) is a parameter.
 */
import { ManagementApiClient } from '../auth0/management-api-client';
import { createHttpsTransport } from '../auth0/http';
import { systemClock } from '../clock';
import type { Config } from '../config';
import { TlsSyslogSink } from '../papertrail/tls-syslog-sink';
import type { Clock, Logger, ShippedIds, StateStore } from '../ports';
import type { RunDeps } from '../run-once';

export interface Adapters {
  deps: RunDeps;
  dispose(): void;
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
  const sink = new TlsSyslogSink({ host: config.papertrail.host, port: config.papertrail.port, clock });
  return {
    deps: { store: options.store, ...(options.shipped ? { shipped: options.shipped } : {}), auth0, sink, clock, log: options.log },
    dispose: () => transport.close(),
  };
}
