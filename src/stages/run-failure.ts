/**
 * How a run ends when something throws. Every failure path of runOnce comes
 * here: an OutOfTimeError only stops the run (it ships and saves what it had);
 * anything else fails it, LEASE_LOST when the lease was lost, after taking back
 * the last shipment if the receiver may have lost it. Never throws: the
 * clean-up after it (closing the sink, releasing held ids) must always run.
 */
import { LeaseLostError, OutOfTimeError, SinkError, toErrorRecord } from '../errors';
import type { Clock, StateStore } from '../ports';
import type { RunLease } from '../storage/run-lease';
import type { ReshipRange } from '../storage/state';
import type { RunReport } from './run-report';
import { describeTakeBack, takeBack } from './take-back';

export interface RunFailureDeps {
  /**
   * The store itself, not the run's fenced view: a run that lost its lease must still leave the record
   * of its range in doubt (take-back.ts checks the lease inside its own transaction).
   */
  store: StateStore;
  lease: RunLease | undefined;
  clock: Clock;
  /** The take-back retries until then. */
  until: number;
  /** The last `count` shipments, which a receiver gone mid-send may have lost. */
  inDoubt: (count: number) => ReshipRange | null;
}

export class RunFailure {
  constructor(private readonly deps: RunFailureDeps, private readonly report: RunReport) {}

  /** An error thrown by the run's loop: the time is up (a stop), or a failure. */
  async stopOrFail(error: unknown): Promise<void> {
    if (error instanceof OutOfTimeError && !this.deps.lease?.lost) {
      this.report.stoppedBy = error.code === 'RATE_LIMITED' ? 'rate-limit' : 'deadline';
      this.report.warnings.push(error.message);
    } else {
      await this.fail(error);
    }
  }

  /** The last shipment failed: that fails a run still ok (one already stopped keeps its first error). */
  async shipmentFailed(error: unknown): Promise<void> {
    if (this.report.status === 'ok') await this.fail(error);
  }

  /** The sink's close failed: that fails a run still ok; for one already failed it may still put the last shipment in doubt. */
  async closeFailed(error: unknown): Promise<void> {
    if (this.report.status === 'ok') await this.fail(error);
    else await this.takeBackIfInDoubt(error);
  }

  async fail(error: unknown): Promise<void> {
    const { lease } = this.deps;
    await this.takeBackIfInDoubt(error);
    const lost = lease?.lost ?? (error instanceof LeaseLostError ? error : null);
    this.report.status = lost ? 'lease-lost' : 'failed';
    this.report.stoppedBy = lost ? 'lease-lost' : 'error';
    this.report.error = toErrorRecord(lost ?? error);
  }

  /** The shipments the sink put in doubt (see take-back.ts): taken back, or recorded to be shipped again. */
  private async takeBackIfInDoubt(error: unknown): Promise<void> {
    if (!(error instanceof SinkError && error.code === 'SINK_RECEIVER_GONE') || this.report.takeBack) return;
    const range = this.deps.inDoubt(error.inDoubt);
    if (range === null) return;
    const { lease, store, clock, until } = this.deps;
    const holds = lease ? (state: Parameters<RunLease['holds']>[0]) => lease.holds(state) : () => true;
    this.report.takeBack = await takeBack(store, range, holds, clock, until);
    this.report.warnings.push(describeTakeBack(this.report.takeBack));
    if (this.report.takeBack.status === 'done') this.report.checkpoint = range.after;
  }
}
