/**
 * The extension bundle alerts too, wherever it runs: webtask-runtime on this
 * Node and on Node 18 (Auth0's extension runtime), and wt serve, whose
 * process-wide https.request patch the webhook adapter must survive. A
 * failing run posts one alert to the (stand-in) Slack webhook and keeps its
 * 502; the recovery posts one more; the realtime logs say so without the URL.
 */
import { readFileSync } from 'node:fs';
import { createTestPki } from '../support/certs';
import { exportEnv } from '../support/export-env';
import { startFakeTenant } from '../support/fake-tenant';
import { startRsyslogReceiver, stopAllReceivers } from '../support/rsyslog-receiver';
import { STAND_IN_PATH, startSlackStandIn } from '../support/slack-stand-in';
import type { NodeVersion } from '../support/test-runtimes';
import { startWebtaskHost, type WebtaskRuntime } from '../support/webtask-host';

const pki = createTestPki();
const ADMIN = 'webtask-alerts-admin-token-0123456789';
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
  await stopAllReceivers();
});

const HOSTS: ReadonlyArray<[string, WebtaskRuntime, NodeVersion]> = [
  ['webtask-runtime on this Node', 'webtask-runtime', 'current'],
  ['webtask-runtime on Node 18', 'webtask-runtime', '18'],
  ['wt serve on this Node', 'wt-serve', 'current'],
  ['wt serve on Node 18', 'wt-serve', '18'],
];

it.each(HOSTS)('the extension under %s alerts once on failure and once on recovery, with the same status codes', async (_, runtime, node) => {
  const receiver = await startRsyslogReceiver({ cert: pki.server });
  await receiver.stop();
  const tenant = await startFakeTenant({ count: 200, start: new Date(Date.now() - 3_600_000), cert: pki.server.cert, key: pki.server.key, ca: pki.server.ca, caFile: pki.server.caFile });
  cleanups.push(() => tenant.stop());
  const slack = await startSlackStandIn(pki.server);
  cleanups.push(() => slack.stop());
  const { NODE_EXTRA_CA_CERTS: _ca, STORAGE_FILE: _file, ...secrets } = exportEnv(tenant, receiver);
  const host = await startWebtaskHost({ ...secrets, SLACK_INCOMING_WEBHOOK_URL: slack.url, ADMIN_TOKEN: ADMIN }, { caFile: pki.server.caFile, runtime, node });
  cleanups.push(() => host.close());
  // Manual runs: open (cron) triggers are limited to one per 30 s.
  const trigger = () => fetch(`${host.url}/run`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}` } });
  const headlines = () => slack.bodies.map((b) => /Export \w+/.exec(b.text)?.[0]);

  expect((await trigger()).status).toBe(502);
  expect((await trigger()).status).toBe(502);
  expect(headlines()).toEqual(['Export failing']);
  await receiver.restart();
  const ok = await trigger();
  expect(ok.status).toBe(200);
  expect(await ok.json()).toMatchObject({ status: 'ok', exported: 200 });
  expect(headlines()).toEqual(['Export failing', 'Export recovered']);
  expect(host.output()).toMatch(/alert "failing" delivered/);
  for (const text of [host.output(), readFileSync(host.storageFile, 'utf8'), ...slack.raw]) {
    expect(text).not.toContain(STAND_IN_PATH);
    expect(text).not.toContain(tenant.clientSecret);
  }
});
