import { PrometheusMetrics } from '../../src/metrics/prometheus-metrics';

const gaugeLine = async (metrics: PrometheusMetrics): Promise<string | undefined> =>
  (await metrics.exposition()).body.split('\n').find((line) => line.startsWith('auth0_papertrail_stream_silent '));

describe('the stream-silent gauge', () => {
  it('is absent without a log stream', async () => {
    expect(await gaugeLine(new PrometheusMetrics())).toBeUndefined();
  });

  it("follows the stream's status at each scrape: 1 while silent, 0 otherwise", async () => {
    const metrics = new PrometheusMetrics();
    let status: 'ok' | 'waiting' | 'silent' = 'waiting';
    metrics.watchStream(() => status);
    expect(await gaugeLine(metrics)).toBe('auth0_papertrail_stream_silent 0');
    status = 'silent';
    expect(await gaugeLine(metrics)).toBe('auth0_papertrail_stream_silent 1');
    status = 'ok';
    expect(await gaugeLine(metrics)).toBe('auth0_papertrail_stream_silent 0');
  });
});

describe('the log counts by path', () => {
  const line = (body: string, name: string): string | undefined => body.split('\n').find((l) => l.startsWith(name));

  it('start at 0 on both paths and add each path to its own series', async () => {
    const metrics = new PrometheusMetrics();
    expect(line((await metrics.exposition()).body, 'auth0_papertrail_logs_truncated_total{path="stream"}')).toBe('auth0_papertrail_logs_truncated_total{path="stream"} 0');
    metrics.shipmentSaved({ pages: 1, fetched: 100, exported: 90, filteredOut: 6, truncated: 1, alreadyShipped: 4 });
    metrics.streamDelivered({ fetched: 10, exported: 7, filteredOut: 1, truncated: 2, alreadyShipped: 2 });
    const body = (await metrics.exposition()).body;
    expect(line(body, 'auth0_papertrail_logs_exported_total{path="poller"}')).toBe('auth0_papertrail_logs_exported_total{path="poller"} 90');
    expect(line(body, 'auth0_papertrail_logs_exported_total{path="stream"}')).toBe('auth0_papertrail_logs_exported_total{path="stream"} 7');
    expect(line(body, 'auth0_papertrail_logs_truncated_total{path="stream"}')).toBe('auth0_papertrail_logs_truncated_total{path="stream"} 2');
    expect(line(body, 'auth0_papertrail_logs_already_shipped_total{path="poller"}')).toBe('auth0_papertrail_logs_already_shipped_total{path="poller"} 4');
    expect(line(body, 'auth0_papertrail_stream_records_total{outcome="duplicate"}')).toBe('auth0_papertrail_stream_records_total{outcome="duplicate"} 2');
  });
});

describe('the failure timestamps', () => {
  const value = async (metrics: PrometheusMetrics, name: string): Promise<number> =>
    Number((await metrics.exposition()).body.split('\n').find((l) => l.startsWith(`${name} `))?.split(' ')[1]);

  it('put a failed run after the last success, and a successful one after it again', async () => {
    const metrics = new PrometheusMetrics();
    metrics.runFinished({ status: 'ok', trigger: 'schedule', durationMs: 1, lagSeconds: 0, finishedAt: 1_000_000 });
    metrics.runFinished({ status: 'failed', trigger: 'schedule', durationMs: 1, lagSeconds: null, finishedAt: 1_060_000 });
    expect(await value(metrics, 'auth0_papertrail_last_failure_timestamp_seconds')).toBeGreaterThan(await value(metrics, 'auth0_papertrail_last_success_timestamp_seconds'));
    metrics.runFinished({ status: 'ok', trigger: 'schedule', durationMs: 1, lagSeconds: 0, finishedAt: 1_120_000 });
    expect(await value(metrics, 'auth0_papertrail_last_failure_timestamp_seconds')).toBeLessThan(await value(metrics, 'auth0_papertrail_last_success_timestamp_seconds'));
  });

  it('restore a failing last run from the history, so a restart does not read as recovered', async () => {
    const metrics = new PrometheusMetrics();
    metrics.restore({ lastSuccessAt: '2026-11-01T00:00:00.000Z', runs: [
      { status: 'ok', stoppedBy: 'deadline', lagSeconds: 7200, finishedAt: '2026-11-01T00:00:00.000Z' },
      { status: 'failed', stoppedBy: 'error', lagSeconds: null, finishedAt: '2026-11-01T00:05:00.000Z' },
    ] });
    expect(await value(metrics, 'auth0_papertrail_last_failure_timestamp_seconds')).toBe(Date.parse('2026-11-01T00:05:00.000Z') / 1000);
    // And the lag the last successful run ended with, as /health reports it.
    expect(await value(metrics, 'auth0_papertrail_lag_seconds')).toBe(7200);
  });
});
