/**
 * The log stream as the service holds it: the delivery pipeline
 * (receive-delivery.ts) with its dependencies, and the activity it reports.
 * The HTTP route only authenticates, bounds the body and maps outcomes to
 * statuses.
 */
import type { Config } from '../config';
import { toErrorRecord } from '../errors';
import type { Clock, LogSink, Logger, ShippedIds, StateStore } from '../ports';
import { addGapFills, StreamActivity, type LogStreamActivity, type SharedStreamActivity } from './activity';
import { GroupCommit } from './group-commit';
import { receiveDelivery, type DeliveryOutcome } from './receive-delivery';
import { ActivitySharing } from './share-activity';
import type { LogStreamSettings } from './settings';
import type { StreamWatchSnapshot } from './stream-watch';

export interface LogStreamDeps {
  /** Shared with the poller; must hold ids (see HoldingShippedIds) when deliveries run in parallel. */
  shipped: ShippedIds;
  /** A sink for the stream's shipments, one at a time; opened again after a failure. */
  openSink(): LogSink;
  clock: Pick<Clock, 'now'>;
  log: Logger;
  /** The state replicas share: the stream's activity is written there (see share-activity.ts). */
  store?: Pick<StateStore, 'update'>;
}

export class LogStream {
  readonly activity: StreamActivity;
  /** Deliveries that arrive while a shipment is in flight share the next one. */
  readonly shipments: GroupCommit;
  private watch: { snapshot(): StreamWatchSnapshot } | undefined;
  private readonly sharing: ActivitySharing | undefined;
  /** Hybrid mode: deliveries answered whose shipment is not out of doubt yet (see ship-delivery.ts). */
  private readonly settling = new Set<Promise<void>>();

  constructor(
    private readonly deps: LogStreamDeps,
    private readonly config: Pick<Config, 'filter' | 'papertrail'>,
    readonly settings: LogStreamSettings & { token: string },
  ) {
    this.shipments = new GroupCommit(() => deps.openSink());
    this.activity = new StreamActivity(settings.streamOnly ? 'stream-only' : 'hybrid', settings.maxSilenceMs, () => deps.clock.now());
    this.sharing = deps.store ? new ActivitySharing(this.activity, { store: deps.store, now: () => deps.clock.now(), log: deps.log }) : undefined;
  }

  get token(): string {
    return this.settings.token;
  }

  async receive(body: string): Promise<DeliveryOutcome> {
    const { shipped, clock } = this.deps;
    const afterAnswer = this.settings.streamOnly ? {} : { afterAnswer: this.keepSettling };
    const outcome = await receiveDelivery(body, { shipped, clock, shipments: this.shipments, ...afterAnswer }, { filter: this.config.filter, papertrail: this.config.papertrail });
    this.activity.delivered(outcome);
    this.sharing?.delivered();
    this.deps.log.debug(`log stream: ${outcome.records} records (${outcome.format}), ${outcome.exported} shipped, ${outcome.alreadyShipped + outcome.repeatedInRequest} already shipped, ${outcome.filteredOut} filtered out`);
    return outcome;
  }

  /**
   * After the last delivery: ships what is queued, releases the connection
   * kept for the next shipment (which settles or puts in doubt every shipment
   * still unsettled), and waits until what was answered is recorded or left
   * to the poller.
   */
  async close(): Promise<void> {
    await this.shipments.close();
    await Promise.allSettled([...this.settling]);
    await this.sharing?.close();
  }

  /** Hybrid mode: a delivery answered on confirmation is recorded once out of doubt, or left to the poller. */
  private readonly keepSettling = (settling: Promise<void>, records: number): void => {
    const kept: Promise<void> = settling.then(
      () => undefined,
      (error: unknown) => {
        this.deps.log.warn(
          `log stream: ${records} records, already answered as delivered, were put in doubt afterwards (${toErrorRecord(error).message}); ` +
            'they are not recorded as shipped, so the poller ships them again',
        );
      },
    ).finally(() => this.settling.delete(kept));
    this.settling.add(kept);
  };

  /** What Auth0 says of the stream, from the watch serve runs; part of every snapshot from now on. */
  watchedBy(watch: { snapshot(): StreamWatchSnapshot }): void {
    this.watch = watch;
  }

  /**
   * A poller run ended (called inside the state update that records it, with
   * the shared activity as read there): its gap fills join the shared
   * activity, and the stream is judged from that, whichever replica ran.
   * Pure apart from remembering what it read; the update may call it again.
   */
  judgeAfterRun(shared: SharedStreamActivity | null, exported: number, at: number): { shared: SharedStreamActivity; activity: LogStreamActivity } {
    const next = addGapFills(shared, exported, at);
    return { shared: next, activity: this.snapshot(next) };
  }

  /** `shared`: the state's streamActivity when the caller just read it. */
  snapshot(shared?: SharedStreamActivity | null): LogStreamActivity {
    const activity = this.activity.snapshot(shared);
    return this.watch ? { ...activity, auth0: this.watch.snapshot() } : activity;
  }
}
