import { decideAfterRun, decideOnStreamDelivery, emptyAlertingState, normalizeAlertingState, streamDeliveryNeedsWrite, type AlertingState, type AlertPolicy, type RunFacts } from '../../src/alerts/alert-rules';

const policy: AlertPolicy = { sendSuccess: false, lagThresholdMs: 60 * 60_000, reminderEveryMs: 60 * 60_000, streamSilenceMs: 15 * 60_000 };
const T0 = Date.parse('2026-11-23T12:00:00.000Z');
const minutes = (n: number): number => n * 60_000;

function run(at: number, overrides: Partial<RunFacts> = {}): RunFacts {
  return {
    runId: `run-${at}`, trigger: 'schedule', status: 'ok', finishedAt: new Date(at).toISOString(), durationMs: 1_000, stoppedBy: 'caught-up',
    startCheckpoint: '100', checkpoint: '200', fetched: 10, exported: 10, pages: 1, lagSeconds: 5, ...overrides,
  };
}
const failed = (at: number, overrides: Partial<RunFacts> = {}): RunFacts =>
  run(at, { status: 'failed', stoppedBy: 'error', exported: 0, fetched: 0, pages: 0, checkpoint: '100', error: { name: 'SinkError', code: 'SINK_UNREACHABLE', message: 'Could not connect to Papertrail at logs:1: connection refused.', retriable: true }, ...overrides });

/** Feeds runs through the rules as the store would, collecting every alert kind. */
function replay(runs: RunFacts[], p: AlertPolicy = policy, start: AlertingState = emptyAlertingState()) {
  let state = start;
  const alerts = runs.flatMap((r) => {
    const d = decideAfterRun(state, r, p);
    state = d.next;
    return d.alerts;
  });
  return { state, alerts };
}

describe('alert rules', () => {
  it('send nothing while healthy and SLACK_SEND_SUCCESS is off', () => {
    const { alerts } = replay(Array.from({ length: 20 }, (_, i) => run(T0 + minutes(5 * i))));
    expect(alerts).toEqual([]);
  });

  it('alert once for ten failed runs in a row within the hour, with code, cause, since and checkpoint', () => {
    const { alerts, state } = replay(Array.from({ length: 10 }, (_, i) => failed(T0 + minutes(5 * i))));
    expect(alerts).toEqual([{ kind: 'failing', since: new Date(T0).toISOString(), code: 'SINK_UNREACHABLE', cause: expect.stringContaining('connection refused') as string, checkpoint: '100', trigger: 'schedule' }]);
    expect(state).toMatchObject({ failingSince: new Date(T0).toISOString(), failedRuns: 10 });
  });

  it('remind once per further hour of failure', () => {
    const runs = Array.from({ length: 37 }, (_, i) => failed(T0 + minutes(5 * i))); // three hours
    const { alerts } = replay(runs);
    expect(alerts.map((a) => a.kind)).toEqual(['failing', 'still-failing', 'still-failing', 'still-failing']);
    expect(alerts[1]).toMatchObject({ kind: 'still-failing', since: new Date(T0).toISOString(), failedRuns: 13 });
  });

  it('alert the recovery once, with how long it was down and how much it caught up', () => {
    const { alerts, state } = replay([run(T0), failed(T0 + minutes(5)), failed(T0 + minutes(10)), run(T0 + minutes(95), { exported: 1234, pages: 13 }), run(T0 + minutes(100))]);
    expect(alerts.map((a) => a.kind)).toEqual(['failing', 'recovered']);
    expect(alerts[1]).toMatchObject({ downMs: minutes(90), failedRuns: 2, caughtUp: 1234, pages: 13 });
    expect(state).toEqual(emptyAlertingState());
  });

  it('summarise every exporting run when SLACK_SEND_SUCCESS is on, and only those', () => {
    const { alerts } = replay([run(T0), run(T0 + minutes(5), { exported: 0 }), run(T0 + minutes(10), { exported: 3 })], { ...policy, sendSuccess: true });
    expect(alerts.map((a) => a.kind)).toEqual(['run-summary', 'run-summary']);
    expect(alerts[1]).toMatchObject({ exported: 3 });
  });

  it('alert lag over the threshold once and its return under it once; a run that caught up is not behind', () => {
    const behind = (at: number, lagSeconds: number) => run(at, { stoppedBy: 'deadline', lagSeconds });
    const { alerts } = replay([behind(T0, 3 * 3600), behind(T0 + minutes(5), 2 * 3600), run(T0 + minutes(10), { lagSeconds: 5 * 3600 }), run(T0 + minutes(15))]);
    expect(alerts).toEqual([
      { kind: 'lagging', lagSeconds: 3 * 3600, thresholdMinutes: 60, stoppedBy: 'deadline' },
      { kind: 'lag-recovered', lagSeconds: 0, laggingMs: minutes(10) },
    ]);
  });

  it('leave lag alone on a failed run', () => {
    const start = { ...emptyAlertingState(), laggingSince: new Date(T0).toISOString() };
    const { state } = replay([failed(T0 + minutes(5), { lagSeconds: 1 })], policy, start);
    expect(state.laggingSince).toBe(new Date(T0).toISOString());
  });

  it('call a stream silent once when the poller keeps finding logs it did not deliver, and its return once', () => {
    let state: AlertingState = decideOnStreamDelivery(emptyAlertingState(), T0).next;
    expect(replay([run(T0 + minutes(5))], policy, state).alerts).toEqual([]); // quiet for 5 minutes only
    const silent = replay([run(T0 + minutes(20)), run(T0 + minutes(25)), run(T0 + minutes(30), { exported: 0 })], policy, state);
    expect(silent.alerts).toEqual([{ kind: 'stream-silent', lastRecordAt: new Date(T0).toISOString(), newLogs: 10 }]);
    state = silent.state;
    expect(streamDeliveryNeedsWrite(state, T0 + minutes(31))).toBe(true);
    const back = decideOnStreamDelivery(state, T0 + minutes(31));
    expect(back.alerts).toEqual([{ kind: 'stream-resumed', silentMs: minutes(31) }]);
    expect(decideOnStreamDelivery(back.next, T0 + minutes(32)).alerts).toEqual([]);
    expect(streamDeliveryNeedsWrite(back.next, T0 + minutes(31) + 10_000)).toBe(false);
  });

  it('never call a stream silent when no stream ever delivered', () => {
    expect(replay([run(T0), run(T0 + minutes(60))]).alerts).toEqual([]);
  });

  it('cut a long cause short', () => {
    const { alerts } = replay([failed(T0, { error: { name: 'Auth0ApiError', code: 'AUTH0_BAD_RESPONSE', message: 'x'.repeat(5_000), retriable: true } })]);
    expect((alerts[0] as { cause: string }).cause.length).toBeLessThanOrEqual(300);
  });

  it('read any stored shape into a well-formed state', () => {
    expect(normalizeAlertingState(undefined)).toEqual(emptyAlertingState());
    expect(normalizeAlertingState({ failingSince: 'not a date', failedRuns: 'x', laggingSince: 7 })).toEqual(emptyAlertingState());
    const since = new Date(T0).toISOString();
    expect(normalizeAlertingState({ failingSince: since, failedRuns: 4 })).toMatchObject({ failingSince: since, failedRuns: 4 });
  });
});
