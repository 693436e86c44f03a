/**
 * The log stream as monitoring sees it, in a real `serve` process with the
 * simulated tenant, a real rsyslogd as Papertrail and the HTTPS Slack
 * stand-in: GET /metrics counts stream requests by status and records by
 * outcome exactly as the answers reported them, and a stream that stops
 * delivering while the poller finds new logs raises one "stream silent"
 * alert, and one "delivering again" when it is back, also with two replicas
 * sharing PostgreSQL whichever of them receives the deliveries. No secret anywhere.
 */
import { createTestPki } from '../support/certs';
import { killAllClis } from '../support/cli';
import { generateEvents } from '../support/events';
import { exportEnv } from '../support/export-env';
import { startFakeTenant, type FakeTenant } from '../support/fake-tenant';
import { encodeBatch, toStreamRecord } from '../support/log-stream-sender';
import { killAllPostgres, startPostgres } from '../support/postgres-server';
import { parsePrometheusText, total } from '../support/prometheus-text';
import { startRsyslogReceiver, stopAllReceivers, type RsyslogReceiver } from '../support/rsyslog-receiver';
import { startServe, until, type Service } from '../support/serve';
import { startSlackStandIn, type SlackStandIn } from '../support/slack-stand-in';

const pki = createTestPki();
const SECRETS = {
  clientSecret: 'streammon-client-secret-4b5c6d7e',
  admin: 'streammon-admin-token-0123456789abcdef',
  papertrail: 'streammon-papertrail-token-8a9b0c1d',
  stream: 'streammon-stream-token-f0e1d2c3b4a5',
};
const NEVER = '0 0 1 1 *';
let receiver: RsyslogReceiver;
let slack: SlackStandIn;
const tenants: FakeTenant[] = [];

beforeEach(async () => {
  receiver = await startRsyslogReceiver({ cert: pki.server });
  slack = await startSlackStandIn(pki.server);
});
afterEach(async () => {
  killAllClis();
  await Promise.all(tenants.splice(0).map((t) => t.stop()));
  await slack.stop();
  await stopAllReceivers();
});

async function tenantWith(count: number): Promise<FakeTenant> {
  const tenant = await startFakeTenant({ count, start: new Date(Date.now() - 3_600_000), clientSecret: SECRETS.clientSecret, cert: pki.server.cert, key: pki.server.key, ca: pki.server.ca, caFile: pki.server.caFile });
  tenants.push(tenant);
  return tenant;
}

async function serveWith(tenant: FakeTenant, extra: Record<string, string>): Promise<Service> {
  return startServe(exportEnv(tenant, receiver, {
    ADMIN_TOKEN: SECRETS.admin, PAPERTRAIL_TOKEN: SECRETS.papertrail, LOG_STREAM_TOKEN: SECRETS.stream, SLACK_INCOMING_WEBHOOK_URL: slack.url, ...extra,
  }));
}

interface StreamAnswer { status: string; records: number; shipped: number; filteredOut: number; alreadyShipped: number }

async function post(service: Service, body: string, token = SECRETS.stream): Promise<{ status: number; answer: StreamAnswer }> {
  const res = await fetch(`${service.url}/log-stream`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body });
  return { status: res.status, answer: (await res.json()) as StreamAnswer };
}

async function metricsText(service: Service): Promise<string> {
  const res = await fetch(`${service.url}/metrics`, { headers: { authorization: `Bearer ${SECRETS.admin}` } });
  expect(res.status).toBe(200);
  return res.text();
}

const secretsIn = (texts: readonly string[]): string[] =>
  [...Object.values(SECRETS), slack.url, new URL(slack.url).pathname].filter((needle) => texts.some((t) => t.includes(needle)));

describe('log stream monitoring', () => {
  it('counts stream requests by status and records by outcome in /metrics, as the answers reported them', async () => {
    const tenant = await tenantWith(0);
    // LOG_LEVEL 2: warnings and above go out, successes are filtered, so every outcome occurs.
    const service = await serveWith(tenant, { SCHEDULE: NEVER, LOG_LEVEL: '2' });
    const events = generateEvents(50, { start: new Date(Date.now() - 600_000) });
    const first = events.slice(0, 25).map(toStreamRecord);
    const second = events.slice(25, 40).map(toStreamRecord);
    const undeliverable = events.slice(40).map(toStreamRecord);

    const answers: StreamAnswer[] = [];
    for (const body of [encodeBatch(first, 'json-array'), encodeBatch(second, 'json-lines'), encodeBatch(first, 'json-array')]) {
      const { status, answer } = await post(service, body);
      expect(status).toBe(200);
      answers.push(answer);
    }
    expect((await post(service, encodeBatch(first, 'json-array'), 'wrong-token-wrong-token-wrong')).status).toBe(401);
    expect((await post(service, '{"not": "log records"')).status).toBe(400);

    const sum = (key: 'shipped' | 'filteredOut' | 'alreadyShipped') => answers.reduce((s, a) => s + a[key], 0);
    // The figures the test relies on are really there: something shipped, something filtered, the re-sent batch all duplicates.
    expect(sum('shipped')).toBeGreaterThan(0);
    expect(sum('filteredOut')).toBeGreaterThan(0);
    expect(answers[2]!.shipped).toBe(0);
    expect(answers[2]!.alreadyShipped).toBe(answers[0]!.shipped);
    expect((await receiver.messages()).length).toBe(sum('shipped'));

    const text = await metricsText(service);
    const m = parsePrometheusText(text);
    expect(total(m, 'auth0_papertrail_stream_records_total', { outcome: 'shipped' })).toBe(sum('shipped'));
    expect(total(m, 'auth0_papertrail_stream_records_total', { outcome: 'filtered' })).toBe(sum('filteredOut'));
    expect(total(m, 'auth0_papertrail_stream_records_total', { outcome: 'duplicate' })).toBe(sum('alreadyShipped'));
    expect(total(m, 'auth0_papertrail_stream_requests_total', { status: '200' })).toBe(3);
    expect(total(m, 'auth0_papertrail_stream_requests_total', { status: '401' })).toBe(1);
    expect(total(m, 'auth0_papertrail_stream_requests_total', { status: '400' })).toBe(1);
    expect(total(m, 'auth0_papertrail_stream_requests_total')).toBe(5);
    expect(secretsIn([text, service.stderr()])).toEqual([]);

    // Papertrail gone: the delivery is refused with 503, and the sink's failure is counted as the poller's would be.
    await receiver.stop();
    expect((await post(service, encodeBatch(undeliverable, 'json-array'))).status).toBe(503);
    const after = parsePrometheusText(await metricsText(service));
    expect(total(after, 'auth0_papertrail_stream_requests_total', { status: '503' })).toBe(1);
    expect(total(after, 'auth0_papertrail_sink_failures_total', { code: 'SINK_UNREACHABLE' })).toBeGreaterThanOrEqual(1);
    service.child.kill('SIGTERM');
    await service.done;
  }, 60_000);

  it('alerts once when the stream goes silent while the poller finds new logs, and once when it delivers again', async () => {
    const tenant = await tenantWith(5);
    const service = await serveWith(tenant, { SCHEDULE: '*/2 * * * * *', LOG_STREAM_MAX_SILENCE_SECONDS: '10' });
    const silentAlerts = () => slack.bodies.filter((b) => /Log stream silent/.test(b.text));
    const resumedAlerts = () => slack.bodies.filter((b) => /Log stream delivering again/.test(b.text));

    expect((await post(service, encodeBatch([0, 1, 2, 3, 4].map((i) => toStreamRecord(tenant.eventAt(i))), 'json-array'))).status).toBe(200);
    // The stream delivers nothing more; the tenant keeps logging, and the poller ships what the stream did not.
    const appending = setInterval(() => tenant.append(3), 1_000);
    try {
      await until('a "stream silent" alert', () => silentAlerts().length > 0, 40_000);
      // Several more runs see the stream still silent: no further alert.
      const runsSoFar = (service.stderr().match(/page \d+: fetched/g) ?? []).length;
      await until('more runs', () => (service.stderr().match(/page \d+: fetched/g) ?? []).length >= runsSoFar + 3, 20_000);
    } finally {
      clearInterval(appending);
    }
    expect(silentAlerts()).toHaveLength(1);
    expect(resumedAlerts()).toHaveLength(0);
    const health = (await (await fetch(`${service.url}/health`, { headers: { authorization: `Bearer ${SECRETS.admin}` } })).json()) as { logStream?: { status: string } };
    expect(health.logStream?.status).toBe('silent');
    expect(await metricsText(service)).toMatch(/^auth0_papertrail_stream_silent 1$/m);

    // The stream delivers again: the next run says so, once.
    const newest = tenant.size() - 1;
    expect((await post(service, encodeBatch([toStreamRecord(tenant.eventAt(newest))], 'json-array'))).status).toBe(200);
    await until('a "delivering again" alert', () => resumedAlerts().length > 0, 20_000);
    // Two or three more scheduled runs.
    await new Promise((r) => setTimeout(r, 5_000));
    expect(silentAlerts()).toHaveLength(1);
    expect(resumedAlerts()).toHaveLength(1);
    expect(await metricsText(service)).toMatch(/^auth0_papertrail_stream_silent 0$/m);

    expect(secretsIn([...slack.raw, await metricsText(service), service.stderr()])).toEqual([]);
    service.child.kill('SIGTERM');
    await service.done;
  }, 120_000);

  it('alerts once when the stream goes silent and once when it delivers again with two replicas sharing PostgreSQL, the deliveries reaching one replica and then only the other', async () => {
    const postgres = await startPostgres();
    const services: Service[] = [];
    try {
      const tenant = await tenantWith(5);
      const env = { SCHEDULE: '*/2 * * * * *', LOG_STREAM_MAX_SILENCE_SECONDS: '10', STATE_URL: await postgres.createDatabase() };
      const a = await serveWith(tenant, env);
      services.push(a);
      const b = await serveWith(tenant, env);
      services.push(b);
      const silentAlerts = () => slack.bodies.filter((x) => /Log stream silent/.test(x.text));
      const resumedAlerts = () => slack.bodies.filter((x) => /Log stream delivering again/.test(x.text));
      // Runs of either replica, from the history they share (a run that finds nothing logs no page).
      const history = async () => ((await (await fetch(`${a.url}/runs`, { headers: { authorization: `Bearer ${SECRETS.admin}` } })).json()) as { runs: { id: string; logStream?: { status: string } }[] }).runs;
      const runsSince = async (before: Set<string>) => (await history()).filter((r) => !before.has(r.id));
      const seen = async () => new Set((await history()).map((r) => r.id));
      const gauges = async () => Promise.all(services.map(async (s) => /^auth0_papertrail_stream_silent (\d)$/m.exec(await metricsText(s))?.[1]));
      const healthOf = async (s: Service) => ((await (await fetch(`${s.url}/health`, { headers: { authorization: `Bearer ${SECRETS.admin}` } })).json()) as { logStream: { status: string; allReplicas: { deliveries: number } } }).logStream;

      // 1. The stream delivers every new log to replica A only, for longer than the silence threshold; the poller
      //    (on either replica) finds nothing the stream has not delivered, or gets there just before it.
      expect((await post(a, encodeBatch([0, 1, 2, 3, 4].map((i) => toStreamRecord(tenant.eventAt(i))), 'json-array'))).status).toBe(200);
      const deliveringUntil = Date.now() + 14_000;
      const runsBefore = await seen();
      let sentToA = 1;
      while (Date.now() < deliveringUntil || (await runsSince(runsBefore)).length < 4) {
        tenant.append(1);
        expect((await post(a, encodeBatch([toStreamRecord(tenant.eventAt(tenant.size() - 1))], 'json-array'))).status).toBe(200);
        sentToA++;
        await new Promise((r) => setTimeout(r, 1_000));
      }
      expect(silentAlerts()).toHaveLength(0);
      expect(await gauges()).toEqual(['0', '0']);
      expect(await Promise.all(services.map(async (s) => (await healthOf(s)).status))).toEqual(['ok', 'ok']);

      // 2. The stream goes quiet; the tenant keeps logging and the poller ships what the stream did not.
      const appending = setInterval(() => tenant.append(3), 1_000);
      try {
        await until('a "stream silent" alert', () => silentAlerts().length > 0, 40_000);
        const runsSoFar = await seen();
        await until('more runs', async () => (await runsSince(runsSoFar)).length >= 4, 30_000);
      } finally {
        clearInterval(appending);
      }
      expect(silentAlerts()).toHaveLength(1);
      expect(resumedAlerts()).toHaveLength(0);
      expect(await gauges()).toEqual(['1', '1']);
      expect(await Promise.all(services.map(async (s) => (await healthOf(s)).status))).toEqual(['silent', 'silent']);

      // 3. The stream delivers again, to replica B only: one "delivering again", whichever replica runs next.
      expect((await post(b, encodeBatch([toStreamRecord(tenant.eventAt(tenant.size() - 1))], 'json-array'))).status).toBe(200);
      await until('a "delivering again" alert', () => resumedAlerts().length > 0, 20_000);
      const runsAfter = await seen();
      await until('more runs', async () => (await runsSince(runsAfter)).length >= 4, 30_000);
      // Every run since, whichever replica ran it, judged the stream delivering.
      expect((await runsSince(runsAfter)).map((r) => r.logStream?.status)).not.toContain('silent');
      expect(silentAlerts()).toHaveLength(1);
      expect(resumedAlerts()).toHaveLength(1);
      expect(await gauges()).toEqual(['0', '0']);
      expect(await Promise.all(services.map(async (s) => (await healthOf(s)).status))).toEqual(['ok', 'ok']);
      // Both count every replica's deliveries: A's and B's.
      expect(await Promise.all(services.map(async (s) => (await healthOf(s)).allReplicas.deliveries))).toEqual([sentToA + 1, sentToA + 1]);
      process.stdout.write(`2 replicas: ${sentToA} deliveries to A, 1 to B, ${(await history()).length} runs; alerts: ${silentAlerts().length} silent, ${resumedAlerts().length} delivering again\n`);
      expect(secretsIn([...slack.raw, ...services.map((s) => s.stderr())])).toEqual([]);
    } finally {
      for (const s of services) {
        s.child.kill('SIGTERM');
        await s.done;
      }
      await postgres.stop();
      killAllPostgres();
    }
  }, 240_000);
});
