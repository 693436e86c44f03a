/**
 * The Slack webhook adapter against a local HTTPS stand-in: delivered,
 * retried, bounded in time, never thrown, and verifying the certificate.
 */
import https from 'node:https';
import type { Alert } from '../../src/alerts/alert-rules';
import { SlackWebhookNotifier } from '../../src/alerts/slack-webhook-notifier';
import { createTestPki } from '../support/certs';
import { STAND_IN_PATH, startSlackStandIn, type SlackStandIn, type StandInMode } from '../support/slack-stand-in';

const pki = createTestPki();
const alert: Alert = { kind: 'failing', since: '2026-11-23T12:00:00.000Z', code: 'SINK_UNREACHABLE', cause: 'Could not connect to Papertrail at <logs>: connection refused.', checkpoint: '900123', trigger: 'schedule' };
const standIns: SlackStandIn[] = [];
afterEach(async () => {
  await Promise.all(standIns.splice(0).map((s) => s.stop()));
});

async function standIn(mode: StandInMode, cert = pki.server) {
  const s = await startSlackStandIn(cert, mode);
  standIns.push(s);
  return s;
}
const notifier = (url: string, options: { budgetMs?: number; attemptTimeoutMs?: number } = {}) => new SlackWebhookNotifier({ url, context: { tenant: 'tenant.example.com' }, ca: pki.server.ca, ...options });

describe('SlackWebhookNotifier', () => {
  it('posts one JSON message with text and blocks, and reports it delivered', async () => {
    const slack = await standIn('ok');
    expect(await notifier(slack.url).notify(alert)).toEqual({ delivered: true, attempts: 1 });
    expect(slack.bodies).toHaveLength(1);
    const body = slack.bodies[0] as { text: string; blocks: unknown[] };
    expect(body.text).toContain('Export failing');
    expect(body.text).toContain('tenant.example.com');
    expect(body.text).toContain('SINK_UNREACHABLE');
    // Slack mrkdwn: quoted text cannot make links or mentions.
    expect(body.text).toContain('&lt;logs&gt;');
    expect(body.blocks).toHaveLength(2);
  });

  it('retries a 500 twice, then reports it not delivered without throwing', async () => {
    const slack = await standIn('error-500');
    expect(await notifier(slack.url).notify(alert)).toEqual({ delivered: false, attempts: 3, detail: 'HTTP 500 internal_error' });
    expect(slack.bodies).toHaveLength(3);
  });

  it('does not retry a 404 (a revoked or mistyped webhook)', async () => {
    const slack = await standIn('ok');
    const wrong = slack.url.replace(STAND_IN_PATH, '/services/T0/B0/revoked');
    expect(await notifier(wrong).notify(alert)).toEqual({ delivered: false, attempts: 1, detail: 'HTTP 404 no_service' });
  });

  it('after Slack\'s 429 waits as long as Retry-After asks before posting again, and is then delivered', async () => {
    const slack = await standIn({ rateLimited: { retryAfterSeconds: 1, times: 1 } });
    expect(await notifier(slack.url).notify(alert)).toEqual({ delivered: true, attempts: 2 });
    expect(slack.arrivals).toHaveLength(2);
    // Retry-After: 1 is one second; the client's own backoff alone would have come back after 250 ms.
    expect((slack.arrivals[1] as number) - (slack.arrivals[0] as number)).toBeGreaterThanOrEqual(1_000);
  });

  it('gives up at once, saying why, when Slack\'s Retry-After is beyond the alert\'s budget', async () => {
    const slack = await standIn({ rateLimited: { retryAfterSeconds: 30, times: 5 } });
    expect(await notifier(slack.url).notify(alert)).toEqual({ delivered: false, attempts: 1, detail: "HTTP 429 rate_limited; Slack asked to wait 30 s, beyond the alert's budget" });
    expect(slack.bodies).toHaveLength(1);
  });

  it.each([
    [400, 'invalid_payload'],
    [403, 'action_prohibited'],
    [404, 'channel_not_found'],
    [410, 'channel_is_archived'],
  ] as const)('does not retry Slack\'s %d %s, and keeps Slack\'s code in the outcome', async (status, code) => {
    const slack = await standIn({ slackError: status });
    expect(await notifier(slack.url).notify(alert)).toEqual({ delivered: false, attempts: 1, detail: `HTTP ${status} ${code}` });
    expect(slack.bodies).toHaveLength(1);
  });

  it('gives up on a webhook that never answers within its budget', async () => {
    const slack = await standIn('hang');
    const started = Date.now();
    const outcome = await notifier(slack.url, { budgetMs: 1_500, attemptTimeoutMs: 600 }).notify(alert);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(outcome.delivered).toBe(false);
    expect(outcome.detail).toMatch(/no answer within \d+ ms/);
  });

  it('reports a refused connection by its code only', async () => {
    const slack = await standIn('refuse');
    const outcome = await notifier(slack.url, { budgetMs: 2_000 }).notify(alert);
    expect(outcome).toEqual({ delivered: false, attempts: 3, detail: 'ECONNREFUSED' });
  });

  it('refuses a certificate it cannot verify, at once, and sends nothing', async () => {
    const slack = await standIn('ok', pki.untrusted);
    const outcome = await notifier(slack.url).notify(alert);
    expect(outcome).toMatchObject({ delivered: false, attempts: 1 });
    expect(outcome.detail).toMatch(/CERT|SIGNED|UNABLE/);
    expect(slack.bodies).toHaveLength(0);
  });

  it('works where https.request is replaced by an (options, callback) function, as wt serve does', async () => {
    const slack = await standIn('ok');
    const original = https.request;
    let calls = 0;
    // Like agent-base's patch: the first argument is taken as the options, anything after the callback is dropped.
    const twoArgument = ((options: https.RequestOptions, callback?: Parameters<typeof https.request>[1]) => {
      calls++;
      if (typeof options === 'string' || options instanceof URL) throw new TypeError('The "listener" argument must be of type function');
      return original(options, callback as never);
    }) as unknown as typeof https.request;
    https.request = twoArgument;
    try {
      expect(await notifier(slack.url).notify(alert)).toEqual({ delivered: true, attempts: 1 });
    } finally {
      https.request = original;
    }
    expect(calls).toBe(1);
    expect(slack.bodies).toHaveLength(1);
  });
});
