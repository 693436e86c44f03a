/**
 * The extension bundle alerts too: under a real webtask runtime, a failing
 * run posts one alert to the (stand-in) Slack webhook, keeps its 502, and
 * the realtime logs say the alert was delivered without showing the URL.
 */
import { readFileSync } from 'node:fs';
import { createTestPki } from '../support/certs';
import { exportEnv } from '../support/export-env';
import { startFakeTenant, type FakeTenant } from '../support/fake-tenant';
import { startRsyslogReceiver, stopAllReceivers } from '../support/rsyslog-receiver';
import { STAND_IN_PATH, startSlackStandIn, type SlackStandIn } from '../support/slack-stand-in';
import { startWebtaskHost, type WebtaskHost } from '../support/webtask-host';

const pki = createTestPki();
const ADMIN = 'webtask-alerts-admin-token-0123456789';
let tenant: FakeTenant;
let slack: SlackStandIn;
let host: WebtaskHost;

afterAll(async () => {
  await host?.close();
  await tenant?.stop();
  await slack?.stop();
  await stopAllReceivers();
});

it('the extension alerts once on failure and once on recovery, with the same status codes', async () => {
  const receiver = await startRsyslogReceiver({ cert: pki.server });
  await receiver.stop();
  tenant = await startFakeTenant({ count: 200, start: new Date(Date.now() - 3_600_000), cert: pki.server.cert, key: pki.server.key, ca: pki.server.ca, caFile: pki.server.caFile });
  slack = await startSlackStandIn(pki.server);
  const { NODE_EXTRA_CA_CERTS: _ca, STORAGE_FILE: _file, ...secrets } = exportEnv(tenant, receiver);
  host = await startWebtaskHost({ ...secrets, SLACK_INCOMING_WEBHOOK_URL: slack.url, ADMIN_TOKEN: ADMIN }, { caFile: pki.server.caFile });
  // Manual runs: open (cron) triggers are limited to one per 30 s.
  const trigger = () => fetch(`${host.url}/run`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}` } });

  expect((await trigger()).status).toBe(502);
  expect((await trigger()).status).toBe(502);
  expect(slack.bodies.map((b) => /Export \w+/.exec(b.text)?.[0])).toEqual(['Export failing']);
  await receiver.restart();
  const ok = await trigger();
  expect(ok.status).toBe(200);
  expect(await ok.json()).toMatchObject({ status: 'ok', exported: 200 });
  expect(slack.bodies.map((b) => /Export \w+/.exec(b.text)?.[0])).toEqual(['Export failing', 'Export recovered']);
  expect(host.output()).toMatch(/alert "failing" delivered/);
  for (const text of [host.output(), readFileSync(host.storageFile, 'utf8'), ...slack.raw]) {
    expect(text).not.toContain(STAND_IN_PATH);
    expect(text).not.toContain(tenant.clientSecret);
  }
});
