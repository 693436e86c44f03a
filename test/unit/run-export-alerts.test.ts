import { loadConfig } from '../../src/config';
import { RunInProgressError, SinkError } from '../../src/errors';
import { addGapFills, StreamActivity } from '../../src/log-stream/activity';
import { runExport, streamSignal } from '../../src/run-export';
import type { RunDeps } from '../../src/run-once';
import { createRedactor } from '../../src/runtime/redact';
import { CapturingLogger, FakeAuth0, FakeClock, makeLogs, MemoryStore, RecordingNotifier, RecordingSink } from '../support/fakes';

const HOOK = 'https://hooks.example.com/services/T000/B000/secretpart0123456789';
const env = { AUTH0_DOMAIN: 't.auth0.com', AUTH0_CLIENT_ID: 'id', AUTH0_CLIENT_SECRET: 'client-secret-value', PAPERTRAIL_HOST: 'logs.example.com', PAPERTRAIL_PORT: '1', BATCH_SIZE: '10', SLACK_INCOMING_WEBHOOK_URL: HOOK };

function setup(extra: Record<string, string> = {}) {
  const config = loadConfig({ ...env, ...extra });
  const store = new MemoryStore();
  const auth0 = new FakeAuth0(makeLogs(25));
  const notifier = new RecordingNotifier();
  const clock = new FakeClock();
  const log = new CapturingLogger();
  // As compose does: a notifier only when a webhook is set.
  const deps = (sink: RecordingSink): RunDeps => ({ store, auth0, sink, clock, log, notifier: config.alerts.webhookUrl === null ? undefined : notifier });
  // A stream judged silent after 10 minutes without a delivery, on the same clock as the runs.
  const activity = new StreamActivity('hybrid', 10 * 60_000, () => clock.now());
  const run = (sink = new RecordingSink(), withStream = false) => {
    clock.current += 5 * 60_000;
    return runExport(deps(sink), config, { trigger: 'schedule', redact: createRedactor([HOOK, 'client-secret-value']), ...(withStream ? { logStream: { pollerRan: (report) => activity.pollerRan(report), judge: (shared, report, at) => { const next = addGapFills(shared, report.exported, at); return { shared: next, activity: activity.snapshot(next) }; } } } : {}) });
  };
  const failingSink = () => {
    const sink = new RecordingSink();
    sink.failOnPage.set(1, new SinkError('Could not connect to Papertrail at logs.example.com:1: connection refused.', { code: 'SINK_UNREACHABLE' }));
    return sink;
  };
  return { store, auth0, notifier, log, run, failingSink, activity };
}

describe('runExport alerts', () => {
  it('alerts once across ten failed runs, once on recovery, and records each delivery in the run history', async () => {
    const { store, notifier, run, failingSink, auth0 } = setup();
    for (let i = 0; i < 10; i++) expect((await run(failingSink())).status).toBe('failed');
    expect(notifier.kinds()).toEqual(['failing']);
    expect(store.state.runs[0]?.alerts).toEqual([{ kind: 'failing', delivered: true, attempts: 1 }]);
    expect(store.state.runs.slice(1).every((r) => r.alerts === undefined)).toBe(true);

    const recovered = await run();
    expect(recovered).toMatchObject({ status: 'ok', exported: 25, alerts: [{ kind: 'recovered', delivered: true }] });
    expect(notifier.alerts[1]).toMatchObject({ kind: 'recovered', failedRuns: 10, caughtUp: 25 });
    auth0.logs.push(...makeLogs(30).slice(25));
    await run();
    expect(notifier.kinds()).toEqual(['failing', 'recovered']);
  });

  it('sends one summary per exporting run with SLACK_SEND_SUCCESS=true', async () => {
    const { notifier, run, auth0 } = setup({ SLACK_SEND_SUCCESS: 'true' });
    await run();
    await run(); // nothing new: no summary
    auth0.logs.push(...makeLogs(30).slice(25));
    await run();
    expect(notifier.alerts).toMatchObject([{ kind: 'run-summary', exported: 25 }, { kind: 'run-summary', exported: 5 }]);
  });

  it('reports an undelivered alert in the progress lines and the history, and the run is unchanged', async () => {
    const { store, notifier, run, log, failingSink } = setup();
    notifier.outcome = { delivered: false, attempts: 3, detail: 'HTTP 500' };
    const result = await run(failingSink());
    expect(result).toMatchObject({ status: 'failed', error: { code: 'SINK_UNREACHABLE' }, alerts: [{ kind: 'failing', delivered: false, attempts: 3, detail: 'HTTP 500' }] });
    expect(store.state.runs[0]?.alerts).toEqual([{ kind: 'failing', delivered: false, attempts: 3, detail: 'HTTP 500' }]);
    expect(log.lines.some((l) => l.startsWith('warn alert "failing" not delivered after 3 attempts: HTTP 500'))).toBe(true);
  });

  it('decides no alert and leaves alerting state alone without a webhook', async () => {
    const { store, run, failingSink } = setup({ SLACK_INCOMING_WEBHOOK_URL: '' });
    const result = await run(failingSink());
    expect(result.alerts).toBeUndefined();
    expect(store.state.alerting.failingSince).toBeNull();
  });

  it('turns away a trigger that races a running one with RunInProgressError, and alerts once', async () => {
    // The fake clock moves 5 minutes per trigger: a lease that long keeps the second one out.
    const { notifier, run, failingSink } = setup({ LEASE_SECONDS: '3600' });
    const outcomes = await Promise.allSettled([run(failingSink()), run(failingSink())]);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    expect(outcomes.find((o) => o.status === 'rejected')).toMatchObject({ reason: expect.any(RunInProgressError) });
    expect(notifier.kinds()).toEqual(['failing']);
  });

  it('alerts once when a second failed run decides while the first one\'s alert is still being sent', async () => {
    const { notifier, run, failingSink } = setup();
    // The first run's alert hangs in the notifier after its run released the lease.
    let release = (): void => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const notify = notifier.notify.bind(notifier);
    let calls = 0;
    notifier.notify = async (alert) => {
      calls++;
      const outcome = await notify(alert);
      if (calls === 1) await held;
      return outcome;
    };
    const first = run(failingSink());
    while (calls === 0) await new Promise((resolve) => setImmediate(resolve));
    const second = await run(failingSink());
    release();
    expect([(await first).status, second.status]).toEqual(['failed', 'failed']);
    // Both runs reached the alert decision; the second found the failure already alerted.
    expect(second.alerts ?? []).toEqual([]);
    expect(notifier.kinds()).toEqual(['failing']);
  });

  it('alerts once when the log stream goes silent while the poller finds logs, and once when it delivers again', async () => {
    const { notifier, run, activity, auth0, store } = setup();
    const delivery = { records: 1, exported: 1, filteredOut: 0, alreadyShipped: 0, repeatedInRequest: 0, withoutLogId: 0 };
    activity.delivered(delivery);
    // Each run finds new logs the stream did not deliver; the run's own gap fills are counted
    // before the stream is judged, so the first run past the silence threshold alerts.
    const silentAfter = 10 * 60_000 / (5 * 60_000);
    for (let i = 0; i < 6; i++) {
      auth0.logs = makeLogs(25 + 3 * (i + 1));
      await run(new RecordingSink(), true);
      if (i === silentAfter) expect(notifier.kinds()).toEqual(['stream-silent']);
    }
    expect(notifier.kinds()).toEqual(['stream-silent']);
    expect(store.state.alerting.streamSilentSince).not.toBeNull();
    activity.delivered(delivery);
    await run(new RecordingSink(), true);
    await run(new RecordingSink(), true);
    expect(notifier.kinds()).toEqual(['stream-silent', 'stream-resumed']);
    expect(store.state.alerting.streamSilentSince).toBeNull();
  });

  it('reads the stream as silent, delivering, or not yet known', () => {
    const clock = { t: 0 };
    const activity = new StreamActivity('hybrid', 1_000, () => clock.t);
    expect(streamSignal(undefined)).toBeUndefined();
    expect(streamSignal(activity.snapshot())).toEqual({ silent: null, lastDeliveryAt: null });
    activity.delivered({ records: 1, exported: 1, filteredOut: 0, alreadyShipped: 0, repeatedInRequest: 0, withoutLogId: 0 });
    expect(streamSignal(activity.snapshot())).toEqual({ silent: false, lastDeliveryAt: new Date(0).toISOString() });
    clock.t = 10;
    activity.pollerRan({ status: 'ok', exported: 5 });
    clock.t = 5_000;
    expect(streamSignal(activity.snapshot())).toEqual({ silent: true, lastDeliveryAt: new Date(0).toISOString() });
  });
});
