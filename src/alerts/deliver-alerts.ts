/**
 * Sends the alerts a run decided, all at once, so that a receiver that hangs
 * costs a run at most one notifier budget however many alerts there are.
 * Never rejects; each outcome goes to the progress lines, the metrics and
 * (through the caller) the run history.
 */
import type { Logger, Metrics, Notifier, StateStore } from '../ports';
import type { Redactor } from '../runtime/redact';
import type { Alert, AlertKind } from './alert-rules';

export interface AlertDelivery {
  kind: AlertKind;
  delivered: boolean;
  attempts: number;
  detail?: string;
}

export async function deliverAlerts(alerts: readonly Alert[], notifier: Notifier, log: Logger, metrics: Metrics): Promise<AlertDelivery[]> {
  return Promise.all(alerts.map(async (alert): Promise<AlertDelivery> => {
    let delivery: AlertDelivery;
    try {
      const outcome = await notifier.notify(alert);
      delivery = { kind: alert.kind, delivered: outcome.delivered, attempts: outcome.attempts, ...(outcome.detail === undefined ? {} : { detail: outcome.detail }) };
    } catch (error) {
      // A notifier must not throw; if one does, it is still only an undelivered alert.
      delivery = { kind: alert.kind, delivered: false, attempts: 0, detail: error instanceof Error ? error.name : 'error' };
    }
    metrics.alertSent(alert.kind, delivery.delivered);
    if (delivery.delivered) log.info(`alert "${alert.kind}" delivered (${delivery.attempts} attempt${delivery.attempts === 1 ? '' : 's'})`);
    else log.warn(`alert "${alert.kind}" not delivered after ${delivery.attempts} attempt${delivery.attempts === 1 ? '' : 's'}: ${delivery.detail ?? 'unknown'}`);
    return delivery;
  }));
}

/** Delivers a run's alerts, then adds the outcomes to that run's record in the history. */
export async function deliverAndRecord(
  alerts: readonly Alert[],
  runId: string,
  deps: { notifier: Notifier; store: StateStore; log: Logger; metrics: Metrics; redact: Redactor },
): Promise<AlertDelivery[]> {
  const deliveries = deps.redact(await deliverAlerts(alerts, deps.notifier, deps.log, deps.metrics));
  try {
    await deps.store.update((state) => ({ ...state, runs: state.runs.map((r) => (r.id === runId ? { ...r, alerts: deliveries } : r)) }));
  } catch (error) {
    deps.log.error(`could not record the alerts' delivery in the history: ${error instanceof Error ? error.message : String(error)}`);
  }
  return deliveries;
}
