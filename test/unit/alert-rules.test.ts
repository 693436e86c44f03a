import { decideAfterRun, emptyAlertingState, normalizeAlertingState, type AlertingState, type AlertPolicy, type RunFacts } from '../../src/alerts/alert-rules';

const policy: AlertPolicy = { sendSuccess: false, lagThresholdMs: 60 * 60_000, reminderEveryMs: 60 * 60_000 };
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

  it('call a log stream silent once, as its activity judges it, and its return once', () => {
    const last = new Date(T0).toISOString();
    const silent = { silent: true, lastDeliveryAt: last };
    const { alerts, state } = replay([
      run(T0, { stream: { silent: false, lastDeliveryAt: last } }),
      run(T0 + minutes(20), { stream: silent }),
      run(T0 + minutes(25), { stream: silent }),
      failed(T0 + minutes(28), { stream: { silent: false, lastDeliveryAt: last } }),
      run(T0 + minutes(30), { stream: silent }),
      run(T0 + minutes(32), { stream: { silent: null, lastDeliveryAt: null } }), // restarted: cannot tell yet
      run(T0 + minutes(35), { stream: { silent: false, lastDeliveryAt: new Date(T0 + minutes(34)).toISOString() } }),
      run(T0 + minutes(40), { stream: { silent: false, lastDeliveryAt: new Date(T0 + minutes(39)).toISOString() } }),
    ]);
    expect(alerts.filter((a) => a.kind.startsWith('stream'))).toEqual([
      { kind: 'stream-silent', lastDeliveryAt: last, newLogs: 10 },
      { kind: 'stream-resumed', silentMs: minutes(15) },
    ]);
    expect(state.streamSilentSince).toBeNull();
  });

  it('forget a silent stream that is no longer configured, without an alert', () => {
    const { alerts, state } = replay([run(T0, { stream: { silent: true, lastDeliveryAt: null } }), run(T0 + minutes(5))]);
    expect(alerts).toEqual([{ kind: 'stream-silent', lastDeliveryAt: null, newLogs: 10 }]);
    expect(state.streamSilentSince).toBeNull();
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
