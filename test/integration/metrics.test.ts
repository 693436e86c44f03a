/**
 * GET /metrics of a real `serve` process after a real drain: it parses as the
 * Prometheus text format, its counters equal the run reports' sums and the
 * simulated tenant's own request counts, it is readable only with a token
 * when one is configured, and it holds no secret and no checkpoint.
 */
import { createTestPki } from '../support/certs';
import { killAllClis, startCli } from '../support/cli';
import { exportEnv } from '../support/export-env';
import { startFakeTenant, type FakeTenant } from '../support/fake-tenant';
import { parsePrometheusText, total } from '../support/prometheus-text';
import { startRsyslogReceiver, stopAllReceivers, type RsyslogReceiver } from '../support/rsyslog-receiver';
import { startSlackStandIn, type SlackStandIn } from '../support/slack-stand-in';

const pki = createTestPki();
const SECRETS = {
  clientSecret: 'metrics-client-secret-9d8c7b6a',
  admin: 'metrics-admin-token-0123456789abcdef',
  metrics: 'metrics-scrape-token-fedcba9876543210',
  papertrail: 'metrics-papertrail-token-1f2e3d4c',
  stream: 'metrics-stream-token-a1b2c3d4e5',
};
let receiver: RsyslogReceiver;
let tenant: FakeTenant;
let slack: SlackStandIn;

beforeAll(async () => {
  receiver = await startRsyslogReceiver({ cert: pki.server });
  slack = await startSlackStandIn(pki.server);
});
afterAll(async () => {
  killAllClis();
  await tenant?.stop();
  await slack.stop();
  await stopAllReceivers();
});

const until = async (what: string, check: () => boolean): Promise<void> => {
  const end = Date.now() + 20_000;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

interface Report { status: string; fetched: number; exported: number; filteredOut: number; truncated: number; pages: number; stoppedBy: string; finishedAt: string; checkpoint: string | null }

describe('GET /metrics', () => {
  it('after a drain of 10,000 events parses, equals the run reports, and is guarded and clean', async () => {
    tenant = await startFakeTenant({
      count: 10_000, hugeEvery: 1_000, start: new Date(Date.now() - 3_600_000), clientSecret: SECRETS.clientSecret,
      rateLimit: { limit: 5, refillPerSecond: 12 }, cert: pki.server.cert, key: pki.server.key, ca: pki.server.ca, caFile: pki.server.caFile,
    });
    const env = exportEnv(tenant, receiver, {
      HOST: '127.0.0.1', PORT: '0', SCHEDULE: '0 0 1 1 *', LOG_TYPES: 's,f,fp,fu,sapi',
      ADMIN_TOKEN: SECRETS.admin, METRICS_TOKEN: SECRETS.metrics, PAPERTRAIL_TOKEN: SECRETS.papertrail, LOG_STREAM_TOKEN: SECRETS.stream,
      SLACK_INCOMING_WEBHOOK_URL: slack.url, SLACK_SEND_SUCCESS: 'true',
    });
    const service = startCli(['serve'], env);
    let stderr = '';
    service.child.stderr?.on('data', (c: string) => (stderr += c));
    await until('serve to listen', () => /serving on http:\/\/127\.0\.0\.1:\d+/.test(stderr));
    const url = /serving on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr)?.[1] ?? '';
    const get = (token?: string) => fetch(`${url}/metrics`, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });
    const trigger = async (): Promise<{ status: number; report: Report }> => {
      const res = await fetch(`${url}/run`, { method: 'POST', headers: { authorization: `Bearer ${SECRETS.admin}` } });
      return { status: res.status, report: (await res.json()) as Report };
    };

    const reports: Report[] = [];
    const drain = await trigger();
    expect(drain.status).toBe(200);
    expect(drain.report).toMatchObject({ fetched: 10_000, stoppedBy: 'caught-up' });
    reports.push(drain.report);
    await receiver.stop();
    tenant.append(300);
    const failed = await trigger();
    expect(failed.status).toBe(502);
    reports.push(failed.report);
    await receiver.restart();
    const recovered = await trigger();
    expect(recovered.status).toBe(200);
    reports.push(recovered.report);

    expect((await get()).status).toBe(401);
    expect((await get('not-the-metrics-token-at-all')).status).toBe(401);
    expect((await get(SECRETS.admin)).status).toBe(200);
    const res = await get(SECRETS.metrics);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    const m = parsePrometheusText(text);

    const sum = (key: 'fetched' | 'exported' | 'filteredOut' | 'truncated' | 'pages') => reports.reduce((s, r) => s + r[key], 0);
    expect(sum('fetched')).toBe(10_300);
    expect(sum('truncated')).toBeGreaterThan(0);
    expect(total(m, 'auth0_papertrail_logs_fetched_total')).toBe(sum('fetched'));
    expect(total(m, 'auth0_papertrail_logs_exported_total')).toBe(sum('exported'));
    expect(total(m, 'auth0_papertrail_logs_filtered_out_total')).toBe(sum('filteredOut'));
    expect(total(m, 'auth0_papertrail_logs_truncated_total')).toBe(sum('truncated'));
    expect(total(m, 'auth0_papertrail_pages_shipped_total')).toBe(sum('pages'));
    // One confirmation per shipment: a page alone, or up to 10 pages (the README's PAGES_PER_SHIPMENT default)
    // gathered while a backlog drains.
    const confirmations = total(m, 'auth0_papertrail_sink_confirm_seconds');
    expect(confirmations).toBeGreaterThanOrEqual(Math.ceil(sum('pages') / 10));
    expect(confirmations).toBeLessThanOrEqual(sum('pages'));
    expect((await receiver.messages()).length).toBe(sum('exported'));
    expect(total(m, 'auth0_papertrail_runs_total', { status: 'ok', trigger: 'manual' })).toBe(2);
    expect(total(m, 'auth0_papertrail_runs_total', { status: 'failed', trigger: 'manual' })).toBe(1);
    expect(total(m, 'auth0_papertrail_run_duration_seconds')).toBe(3);
    expect(total(m, 'auth0_papertrail_sink_failures_total', { code: 'SINK_UNREACHABLE' })).toBe(1);
    const stats = tenant.stats();
    // Every answer the tenant sent, less at most the page fetched ahead that the failed run abandoned.
    for (const [status, count] of Object.entries(stats.logsResponses)) {
      const seen = total(m, 'auth0_papertrail_auth0_requests_total', { endpoint: 'logs', status });
      expect(seen).toBeLessThanOrEqual(count);
      expect(seen).toBeGreaterThanOrEqual(count - 1);
    }
    expect(total(m, 'auth0_papertrail_auth0_requests_total', { endpoint: 'logs' })).toBeGreaterThanOrEqual(stats.logsRequests - 1);
    expect(total(m, 'auth0_papertrail_auth0_requests_total', { endpoint: 'token' })).toBe(stats.tokenRequests);
    expect(total(m, 'auth0_papertrail_auth0_token_refreshes_total')).toBe(stats.tokensIssued);
    expect(total(m, 'auth0_papertrail_auth0_rate_limit_waits_total')).toBeGreaterThan(0);
    expect(total(m, 'auth0_papertrail_auth0_rate_limit_wait_seconds_total')).toBeGreaterThan(0);
    expect(total(m, 'auth0_papertrail_lag_seconds')).toBe(0);
    expect(total(m, 'auth0_papertrail_last_success_timestamp_seconds')).toBe(Date.parse(recovered.report.finishedAt) / 1000);
    expect(total(m, 'auth0_papertrail_alerts_total', { delivered: 'true' })).toBe(slack.bodies.length);
    // The recovering run's two alerts go out together, so their order is not fixed.
    const headlines = slack.bodies.map((b) => /Export \w+/.exec(b.text)?.[0]).sort();
    expect(headlines).toEqual(['Export failing', 'Export recovered', 'Export run', 'Export run']);
    expect(m.has('process_cpu_user_seconds_total')).toBe(true);
    // The stream (LOG_STREAM_TOKEN is set) has not delivered yet: waiting, not silent.
    expect(total(m, 'auth0_papertrail_stream_silent')).toBe(0);
    expect(m.has('nodejs_heap_size_used_bytes')).toBe(true);

    const secrets = [...Object.values(SECRETS), slack.url, new URL(slack.url).pathname];
    const checkpoints = reports.map((r) => r.checkpoint).filter((c): c is string => c !== null);
    expect([...secrets, ...checkpoints].filter((needle) => text.includes(needle))).toEqual([]);
    expect(secrets.filter((needle) => slack.raw.some((body) => body.includes(needle)))).toEqual([]);
    expect(secrets.filter((needle) => stderr.includes(needle))).toEqual([]);
    service.child.kill('SIGTERM');
    await service.done;
  });
});
