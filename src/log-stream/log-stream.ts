/**
 * The log stream as the service holds it: the delivery pipeline
 * (receive-delivery.ts) with its dependencies, and the activity it reports.
 * The HTTP route only authenticates, bounds the body and maps outcomes to
 * statuses.
 */
import type { Config } from '../config';
import type { Clock, LogSink, Logger, ShippedIds } from '../ports';
import { StreamActivity, type LogStreamActivity } from './activity';
import { receiveDelivery, type DeliveryOutcome } from './receive-delivery';
import type { LogStreamSettings } from './settings';

export interface LogStreamDeps {
  /** Shared with the poller; must hold ids (see HoldingShippedIds) when deliveries run in parallel. */
  shipped: ShippedIds;
  /** A sink of its own for each delivery. */
  openSink(): LogSink;
  clock: Pick<Clock, 'now'>;
  log: Logger;
}

export class LogStream {
  readonly activity: StreamActivity;

  constructor(
    private readonly deps: LogStreamDeps,
    private readonly config: Pick<Config, 'filter' | 'papertrail'>,
    readonly settings: LogStreamSettings & { token: string },
  ) {
    this.activity = new StreamActivity(settings.streamOnly ? 'stream-only' : 'hybrid', settings.maxSilenceMs, () => deps.clock.now());
  }

  get token(): string {
    return this.settings.token;
  }

  async receive(body: string): Promise<DeliveryOutcome> {
    const outcome = await receiveDelivery(body, this.deps, { filter: this.config.filter, papertrail: this.config.papertrail });
    this.activity.delivered(outcome);
    this.deps.log.debug(`log stream: ${outcome.records} records (${outcome.format}), ${outcome.exported} shipped, ${outcome.alreadyShipped + outcome.repeatedInRequest} already shipped, ${outcome.filteredOut} filtered out`);
    return outcome;
  }

  snapshot(): LogStreamActivity {
    return this.activity.snapshot();
  }
}
