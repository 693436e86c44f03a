/**
 * The stream watch's decisions with in-memory fakes: which readings alert,
 * when a stopped stream is resumed (only after Papertrail confirmed a send
 * since it was seen stopped, never twice within the backoff), and which
 * endpoints `stream setup` refuses.
 */
import { decideStreamStatus, emptyAlertingState, normalizeAlertingState, type AlertingState } from '../../src/alerts/alert-rules';
import { MissingScopeError, type LogStreamInfo, type LogStreamStatus } from '../../src/auth0/log-streams-api';
import { Auth0ApiError } from '../../src/errors';
import { noMetrics } from '../../src/ports';
import { endpointProblem } from '../../src/log-stream/stream-setup';
import { StreamWatch } from '../../src/log-stream/stream-watch';
import { CapturingLogger, FakeClock, MemoryStore, RecordingNotifier } from '../support/fakes';

const T0 = Date.parse('2026-11-23T12:00:00.000Z');

describe('stream status alerts', () => {
  const facts = (status: LogStreamStatus, at: number, resumedByService = false) => ({ status, at: new Date(at).toISOString(), stream: '"s" (lst_1)', resumedByService, autoResume: false });
  function replay(statuses: LogStreamStatus[]): { kinds: string[]; state: AlertingState } {
    let state = emptyAlertingState();
    const kinds: string[] = [];
    statuses.forEach((status, i) => {
      const d = decideStreamStatus(state, facts(status, T0 + i * 60_000));
      state = d.next;
      kinds.push(...d.alerts.map((a) => (a.kind === 'stream-inactive' ? `inactive:${a.status}` : a.kind)));
    });
    return { kinds, state };
  }

  it('alert once when the stream leaves active, not again from paused to suspended, and once when it is active again', () => {
    expect(replay(['active', 'active', 'paused', 'paused', 'suspended', 'suspended', 'active', 'active']).kinds).toEqual(['inactive:paused', 'stream-active']);
    expect(replay(['suspended', 'paused', 'active']).kinds).toEqual(['inactive:suspended', 'stream-active']);
  });

  it('say how long the stream was stopped, and survive a round trip through storage', () => {
    let state = decideStreamStatus(emptyAlertingState(), facts('suspended', T0)).next;
    state = normalizeAlertingState(JSON.parse(JSON.stringify(state)));
    expect(state).toMatchObject({ streamStatus: 'suspended', streamInactiveSince: new Date(T0).toISOString() });
    expect(decideStreamStatus(state, facts('active', T0 + 12 * 60_000, true)).alerts).toEqual([{ kind: 'stream-active', was: 'suspended', inactiveMs: 12 * 60_000, stream: '"s" (lst_1)', resumedByService: true }]);
    expect(normalizeAlertingState({ streamStatus: 'stopped', streamInactiveSince: 'x' })).toMatchObject({ streamStatus: null, streamInactiveSince: null });
  });
});

class FakeStreams {
  status: LogStreamStatus = 'active';
  patches: Array<{ status?: LogStreamStatus }> = [];
  forbidden = false;
  private info = (): LogStreamInfo => ({ id: 'lst_1', name: 'auth0-logs-to-papertrail', type: 'http', status: this.status, sink: { httpAuthorization: 'Bearer secret-token-0123456789' } });
  async list(): Promise<LogStreamInfo[]> {
    if (this.forbidden) throw new MissingScopeError('read:log_streams', new Auth0ApiError('Auth0 /api/v2/log-streams answered 403: Forbidden.', { status: 403 }));
    return [this.info()];
  }
  async get(): Promise<LogStreamInfo> {
    return this.info();
  }
  async update(_id: string, change: { status?: LogStreamStatus }): Promise<LogStreamInfo> {
    this.patches.push(change);
    if (change.status) this.status = change.status;
    return this.info();
  }
}

function watchWith(autoResume: boolean, intervalMs = 1_000) {
  const api = new FakeStreams();
  const clock = new FakeClock(T0);
  const notifier = new RecordingNotifier();
  const sink = { lastConfirmedAt: null as number | null, lastFailedAt: null as number | null };
  const log = new CapturingLogger();
  const watch = new StreamWatch({ api, store: new MemoryStore(), notifier, log, metrics: noMetrics, clock, sinkHealth: () => sink, budgetAllows: () => true }, { id: null, token: 'secret-token-0123456789', intervalMs, autoResume });
  return { api, clock, notifier, sink, watch, log };
}

describe('the stream watch', () => {
  it('resumes a suspended stream only once Papertrail confirmed a send after it was seen stopped, and records it', async () => {
    const { api, clock, notifier, sink, watch } = watchWith(true);
    await watch.check();
    api.status = 'suspended';
    sink.lastConfirmedAt = T0 - 1; // before the stream was seen stopped: says nothing of now
    clock.current += 1_000;
    await watch.check();
    expect(api.patches).toEqual([]);
    clock.current += 1_000;
    sink.lastConfirmedAt = clock.current - 10;
    sink.lastFailedAt = clock.current - 5; // and a failure after it: still down
    await watch.check();
    expect(api.patches).toEqual([]);
    clock.current += 1_000;
    sink.lastConfirmedAt = clock.current - 1;
    await watch.check();
    expect(api.patches).toEqual([{ status: 'active' }]);
    expect(watch.snapshot()).toMatchObject({ status: 'active', autoResume: { enabled: true, resumes: 1, lastResumedAt: new Date(clock.current).toISOString() } });
    expect(notifier.kinds()).toEqual(['stream-inactive', 'stream-active']);
    expect(notifier.alerts[1]).toMatchObject({ resumedByService: true });
  });

  it('resumes at most once per backoff period, the period doubling', async () => {
    const { api, clock, sink, watch } = watchWith(true, 1_000);
    const stopAndConfirm = async (): Promise<void> => {
      api.status = 'paused';
      await watch.check();
      clock.current += 1;
      sink.lastConfirmedAt = clock.current;
    };
    await stopAndConfirm();
    await watch.check();
    expect(api.patches).toHaveLength(1); // at T0: the first resume is not held back
    const resumedAt: number[] = [clock.current];
    // It stops again at once, and Papertrail keeps confirming: the next resume waits 5 s, then 10 s.
    for (let i = 0; i < 2; i++) {
      await stopAndConfirm();
      while (api.patches.length === resumedAt.length) {
        clock.current += 500;
        sink.lastConfirmedAt = clock.current;
        await watch.check();
      }
      resumedAt.push(clock.current);
    }
    const gaps = [resumedAt[1]! - resumedAt[0]!, resumedAt[2]! - resumedAt[1]!];
    expect(gaps[0]).toBeGreaterThanOrEqual(5_000);
    expect(gaps[0]).toBeLessThan(6_000);
    expect(gaps[1]).toBeGreaterThanOrEqual(10_000);
    expect(gaps[1]).toBeLessThan(11_000);
  });

  it('never resumes without LOG_STREAM_AUTO_RESUME, and alerts once', async () => {
    const { api, clock, notifier, sink, watch } = watchWith(false);
    api.status = 'suspended';
    for (let i = 0; i < 5; i++) {
      clock.current += 1_000;
      sink.lastConfirmedAt = clock.current;
      await watch.check();
    }
    expect(api.patches).toEqual([]);
    expect(notifier.kinds()).toEqual(['stream-inactive']);
  });

  it('reports a missing scope as the problem, once in the log, with the status unknown', async () => {
    const { api, log, watch } = watchWith(false);
    api.forbidden = true;
    await watch.check();
    await watch.check();
    expect(watch.snapshot()).toMatchObject({ status: 'unknown', problem: expect.stringContaining('read:log_streams') });
    expect(log.lines.filter((l) => l.startsWith('warn'))).toHaveLength(1);
    expect(log.lines.join('\n')).not.toContain('secret-token-0123456789');
  });
});

describe('stream setup refuses endpoints Auth0 cannot deliver to', () => {
  it.each([
    'http://logs.example.com/log-stream', 'https://127.0.0.1/log-stream', 'https://127.9.9.9/x', 'https://10.0.0.5/x', 'https://172.20.1.1/x',
    'https://192.168.1.10/x', 'https://169.254.169.254/x', 'https://100.64.0.1/x', 'https://[::1]/x', 'https://[fd00::1]/x', 'https://[fe80::1]/x',
    'https://[::ffff:10.0.0.1]/x', 'https://localhost/x', 'https://svc.local/x', 'https://intranet/x', 'https://user:pw@logs.example.com/x', 'not a url',
  ])('%s', (url) => {
    expect(endpointProblem(url)).not.toBeNull();
  });

  it.each(['https://logs.example.com/log-stream', 'https://logs.example.com:8443/log-stream', 'https://203.0.114.7/log-stream', 'https://[2606:4700::1]/log-stream'])('accepts %s', (url) => {
    expect(endpointProblem(url)).toBeNull();
  });
});
