/**
 * Slack alerts end to end: the built CLI against the simulated tenant, a real
 * rsyslogd as Papertrail and a local HTTPS stand-in for Slack's incoming
 * webhook, trusted through NODE_EXTRA_CA_CERTS like any private CA.
 */
import { readFileSync } from 'node:fs';
import { createTestPki } from '../support/certs';
import { killAllClis, runCli, type CliResult } from '../support/cli';
import { checkDelivery } from '../support/delivery';
import type { TenantEvent } from '../support/events';
import { exportEnv } from '../support/export-env';
import { readStoredState } from '../support/stored-state';
import { startFakeTenant, type FakeTenant } from '../support/fake-tenant';
import { startRsyslogReceiver, stopAllReceivers, type RsyslogReceiver } from '../support/rsyslog-receiver';
import { STAND_IN_PATH, startSlackStandIn, type SlackStandIn, type StandInMode } from '../support/slack-stand-in';

/** README, alerts: "all of it stops after 5 seconds". */
const README_ALERT_BUDGET_MS = 5_000;

const pki = createTestPki();
const SECRETS = {
  clientSecret: 'alerts-client-secret-7f3a9c51',
  admin: 'alerts-admin-token-0123456789abcdef',
  papertrail: 'alerts-papertrail-token-5e6f7a8b9c',
  stream: 'alerts-stream-token-1a2b3c4d5e6f',
};
let receiver: RsyslogReceiver;
const tenants: FakeTenant[] = [];
const standIns: SlackStandIn[] = [];
/** Everything the program printed or stored during a test, scanned for secrets at its end. */
let outputs: string[] = [];

beforeEach(async () => {
  receiver = await startRsyslogReceiver({ cert: pki.server });
  outputs = [];
});
afterEach(async () => {
  killAllClis();
  await Promise.all(tenants.splice(0).map((t) => t.stop()));
  await Promise.all(standIns.splice(0).map((s) => s.stop()));
  await stopAllReceivers();
});

async function tenantWith(count: number): Promise<FakeTenant> {
  const tenant = await startFakeTenant({ count, start: new Date(Date.now() - 3_600_000), clientSecret: SECRETS.clientSecret, cert: pki.server.cert, key: pki.server.key, ca: pki.server.ca, caFile: pki.server.caFile });
  tenants.push(tenant);
  return tenant;
}

async function slackStandIn(mode: StandInMode = 'ok'): Promise<SlackStandIn> {
  const standIn = await startSlackStandIn(pki.server, mode);
  standIns.push(standIn);
  return standIn;
}

function envFor(tenant: FakeTenant, extra: Record<string, string>) {
  // PAPERTRAIL_TOKEN and LOG_STREAM_TOKEN are set so that, whichever version reads them, the scan covers them.
  return exportEnv(tenant, receiver, { ADMIN_TOKEN: SECRETS.admin, PAPERTRAIL_TOKEN: SECRETS.papertrail, LOG_STREAM_TOKEN: SECRETS.stream, ...extra });
}

async function run(env: Record<string, string>): Promise<CliResult & { wallMs: number }> {
  const started = Date.now();
  const result = await runCli(['run'], env);
  outputs.push(result.stdout, result.stderr);
  return { ...result, wallMs: Date.now() - started };
}

function expectNoSecrets(texts: readonly string[], webhookUrl: string): void {
  const needles = [...Object.values(SECRETS), webhookUrl, STAND_IN_PATH];
  const hits = texts.flatMap((text) => needles.filter((needle) => text.includes(needle)));
  expect(hits).toEqual([]);
}

const eventsOf = (t: FakeTenant): TenantEvent[] => Array.from({ length: t.size() }, (_, i) => t.eventAt(i));
const headline = (body: { text: string }): string => body.text.split('\n')[0] ?? '';

describe('Slack alerts', () => {
  it('alert once across ten failed runs, once on recovery, and never while healthy', async () => {
    const tenant = await tenantWith(300);
    const slack = await slackStandIn();
    const env = envFor(tenant, { SLACK_INCOMING_WEBHOOK_URL: slack.url });

    expect((await run(env)).code).toBe(0);
    expect(slack.bodies).toHaveLength(0);

    await receiver.stop();
    tenant.append(50);
    for (let i = 0; i < 10; i++) {
      const failed = await run(env);
      expect(failed.code).toBe(1);
    }
    expect(slack.bodies.map(headline)).toEqual([expect.stringContaining('Export failing') as string]);
    expect(slack.bodies[0]?.text).toContain('SINK_UNREACHABLE');
    expect(slack.bodies[0]?.text).toContain('Checkpoint stays at');

    await receiver.restart();
    const recovered = await run(env);
    expect(recovered.code).toBe(0);
    expect(slack.bodies.map(headline)).toEqual([expect.stringContaining('Export failing') as string, expect.stringContaining('Export recovered') as string]);
    expect(slack.bodies[1]?.text).toMatch(/10 failed runs/);
    expect(slack.bodies[1]?.text).toMatch(/Caught up 50 logs/);

    for (let i = 0; i < 3; i++) {
      tenant.append(10);
      expect((await run(env)).code).toBe(0);
    }
    expect(slack.bodies).toHaveLength(2);
    expect(checkDelivery(eventsOf(tenant), await receiver.messages())).toMatchObject({ delivered: 380, missing: 0 });

    const stored = readStoredState(env.STORAGE_FILE);
    // Scanned as well: the database file's bytes and the document read from it.
    const state = `${readFileSync(env.STORAGE_FILE, 'latin1')}\n${JSON.stringify(stored)}`;
    const runs = stored.runs;
    expect(runs.filter((r) => r.alerts !== undefined).map((r) => r.alerts)).toEqual([
      [{ kind: 'failing', delivered: true, attempts: 1 }],
      [{ kind: 'recovered', delivered: true, attempts: 1 }],
    ]);
    expectNoSecrets([...slack.raw, ...outputs, state], slack.url);
  });

  it('with SLACK_SEND_SUCCESS=true, send one summary per run that exported something', async () => {
    const tenant = await tenantWith(120);
    const slack = await slackStandIn();
    const env = envFor(tenant, { SLACK_INCOMING_WEBHOOK_URL: slack.url, SLACK_SEND_SUCCESS: 'true' });
    expect((await run(env)).code).toBe(0);
    expect((await run(env)).code).toBe(0); // nothing new
    tenant.append(7);
    expect((await run(env)).code).toBe(0);
    expect(slack.bodies.map(headline)).toEqual([expect.stringContaining('Export run') as string, expect.stringContaining('Export run') as string]);
    expect(slack.bodies[0]?.text).toContain('120 logs exported');
    expect(slack.bodies[1]?.text).toContain('7 logs exported');
    expect(slack.bodies.every((b) => Array.isArray(b.blocks))).toBe(true);
    expectNoSecrets([...slack.raw, ...outputs, readFileSync(env.STORAGE_FILE, 'latin1'), JSON.stringify(readStoredState(env.STORAGE_FILE))], slack.url);
  });

  it.each<StandInMode>(['error-500', 'hang', 'refuse'])('a webhook that does %s changes nothing about the runs', async (mode) => {
    const [plainTenant, alertedTenant] = [await tenantWith(2_000), await tenantWith(2_000)];
    const slack = await slackStandIn(mode);
    const plain = envFor(plainTenant, { PAPERTRAIL_SYSTEM: 'plain' });
    const alerted = envFor(alertedTenant, { PAPERTRAIL_SYSTEM: 'alerted', SLACK_INCOMING_WEBHOOK_URL: slack.url, SLACK_SEND_SUCCESS: 'true' });
    const pair = async () => [await run(plain), await run(alerted)] as const;

    const healthy = await pair();
    await receiver.stop();
    plainTenant.append(100);
    alertedTenant.append(100);
    const failing = await pair();
    await receiver.restart();
    const recovered = await pair();

    for (const [a, b] of [healthy, failing, recovered]) {
      expect(b.code).toBe(a.code);
      expect(b.report?.['status']).toBe(a.report?.['status']);
      expect(b.report?.['exported']).toBe(a.report?.['exported']);
      // The alerted run may wait for its alert, but never longer than the alert budget.
      expect(b.wallMs).toBeLessThan(a.wallMs + README_ALERT_BUDGET_MS + 2_500);
    }
    expect([healthy[0].code, failing[0].code, recovered[0].code]).toEqual([0, 1, 0]);
    const messages = await receiver.messages();
    for (const [tenant, system] of [[plainTenant, 'plain'], [alertedTenant, 'alerted']] as const) {
      expect(checkDelivery(eventsOf(tenant), messages.filter((m) => m.hostname === system), { system })).toMatchObject({ delivered: 2_100, missing: 0 });
    }
    // Each run triggered an alert, and the history says it was not delivered.
    const runs = readStoredState(alerted.STORAGE_FILE).runs;
    expect(runs.map((r) => r.alerts?.map((x) => `${x.kind}:${String(x.delivered)}`))).toEqual([['run-summary:false'], ['failing:false'], ['recovered:false', 'run-summary:false']]);
    expect(recovered[1].stderr).toMatch(/alert "recovered" not delivered/);
    if (mode === 'error-500') expect(slack.raw.length).toBe(3 * 4); // three attempts for each of four alerts
    expectNoSecrets([...slack.raw, ...outputs, readFileSync(alerted.STORAGE_FILE, 'latin1'), JSON.stringify(readStoredState(alerted.STORAGE_FILE))], slack.url);
  });
});
