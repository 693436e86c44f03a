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
