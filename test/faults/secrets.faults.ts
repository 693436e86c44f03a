/**
 * Promise: the client secret, the admin token, the Papertrail token, the
 * metrics token, the log-stream token, PII_HASH_KEY, the password in STATE_URL and the
 * Slack webhook URL (every secret the README's Security section lists) never leave the process they were
 * given to (the webhook is only ever posted to): not on stdout or stderr, not in an HTTP answer, not in
 * the run history, not in stored state, whether the run succeeds or fails.
 *
 * Distinctive values are given to the CLI, the service and the extension,
 * which then succeed and fail in every way a caller can provoke; everything
 * they print, answer or store is collected and searched for each secret and
 * for a distinctive fragment of it (a leak of half a secret is still a leak).
 */
import { existsSync, readFileSync } from 'node:fs';
import { Client } from 'pg';
import { checkDelivery } from '../support/delivery';
import type { CliResult } from '../support/cli';
import type { FakeTenant } from '../support/fake-tenant';
import type { RsyslogReceiver } from '../support/rsyslog-receiver';
import { streamEvents, toStreamRecord } from '../support/log-stream-sender';
import { killAllPostgres, startPostgres } from '../support/postgres-server';
import { STAND_IN_PATH, startSlackStandIn } from '../support/slack-stand-in';
import { recordFigures, RANK, stopwatch } from './support/figures';
import { httpCall, useHarness, type HttpAnswer } from './support/harness';
import { eventsOf } from './support/received';
import { readState, tryReadState } from './support/state';

const CLIENT_SECRET = 'cs-Quokka7Distinctive-ClientSecret-X3v9';
const WRONG_SECRET = 'cs-Wombat4Mistyped-ClientSecret-P8k2';
const ADMIN_TOKEN = 'adm-Numbat5Distinctive-AdminToken-Q7m4';
const PAPERTRAIL_TOKEN = '902174-Bilby6Distinctive_PapertrailTok';
/** A token config rejects (a space), which its error must not echo either. */
const BAD_PAPERTRAIL_TOKEN = '902174-Dingo2Distinctive Papertrail';
const METRICS_TOKEN = 'mt-Quoll3Distinctive-MetricsToken-R5t1';
/** The key of the pseudonyms every export below ships (PII_METHOD=hash), and one config refuses as too short. */
const PII_HASH_KEY = 'pii-Potoroo5Distinctive-HashKey-W2c6';
const SHORT_PII_HASH_KEY = 'Ibis8Distinct';
const PII = { PII_FIELDS: 'email,username,ip', PII_METHOD: 'hash', PII_HASH_KEY };
const LOG_STREAM_TOKEN = 'ls-Potoroo8Distinctive-StreamToken-W2n6';
const WRONG_STREAM_TOKEN = 'ls-Bandicoot1Mistyped-StreamToken-J4h8';
/** The PostgreSQL password in STATE_URL, and one the server refuses. */
const DB_PASSWORD = 'pg-Echidna9Distinctive-DbPassword-T6c3';
const WRONG_DB_PASSWORD = 'pg-Wallaby2Mistyped-DbPassword-L5s7';
/** Each secret, and the fragment that would betray it if only part leaked. */
const NEEDLES: ReadonlyArray<readonly [string, string]> = [
  [CLIENT_SECRET, 'Quokka7Distinctive'],
  [WRONG_SECRET, 'Wombat4Mistyped'],
  [ADMIN_TOKEN, 'Numbat5Distinctive'],
  [PAPERTRAIL_TOKEN, 'Bilby6Distinctive'],
  [BAD_PAPERTRAIL_TOKEN, 'Dingo2Distinctive'],
  [METRICS_TOKEN, 'Quoll3Distinctive'],
  [PII_HASH_KEY, 'Potoroo5Distinctive'],
  [SHORT_PII_HASH_KEY, 'Ibis8Distinct'],
  [LOG_STREAM_TOKEN, 'Potoroo8Distinctive'],
  [WRONG_STREAM_TOKEN, 'Bandicoot1Mistyped'],
  [DB_PASSWORD, 'Echidna9Distinctive'],
  [WRONG_DB_PASSWORD, 'Wallaby2Mistyped'],
  [STAND_IN_PATH, STAND_IN_PATH.split('/').at(-1) ?? STAND_IN_PATH],
];
const CRON_RECORD = { schedule: '0 */5 * * * *', state: 'active' };
const EVENTS = 50;

const h = useHarness();

interface Exhibit {
  where: string;
  text: string;
}

function leaks(exhibits: readonly Exhibit[]): string[] {
  const found: string[] = [];
  for (const { where, text } of exhibits) {
    for (const [secret, fragment] of NEEDLES) {
      if (text.includes(fragment)) found.push(`${where} contains ${text.includes(secret) ? 'the secret' : 'part of the secret'} ${fragment}…`);
    }
  }
  return found;
}

const ofCli = (name: string, r: CliResult): Exhibit[] => [
  { where: `${name}: stdout`, text: r.stdout },
  { where: `${name}: stderr`, text: r.stderr },
];
const ofAnswer = (name: string, a: HttpAnswer): Exhibit => ({ where: `${name}: HTTP ${a.status} answer`, text: a.text });

async function withDeliveryOf(tenant: FakeTenant, receiver: RsyslogReceiver) {
  // Every frame carries the token: it reached the receiver, and only the receiver.
  return checkDelivery(eventsOf(tenant), await receiver.messages(), { token: PAPERTRAIL_TOKEN });
}

afterAll(() => killAllPostgres());

describe('secrets', () => {
  it('never shows the client secret, the admin, Papertrail, metrics or log-stream token, the PII hash key, the STATE_URL password or the webhook URL in any output, answer, run history or stored state, in success or failure', async () => {
    const elapsed = stopwatch();
    const exhibits: Exhibit[] = [];
    const expectations: Array<[string, unknown, unknown]> = [];
    const check = (what: string, actual: unknown, expected: unknown): void => {
      expectations.push([what, actual, expected]);
    };

    // Every alert goes to a Slack stand-in, whose received bodies are scanned too.
    const slack = await startSlackStandIn(h.pki.server);
    h.defer(() => slack.stop());
    const SLACK = { SLACK_INCOMING_WEBHOOK_URL: slack.url, SLACK_SEND_SUCCESS: 'true' };

    // --- the CLI
    const cliTenant = await h.tenant({ count: EVENTS, clientSecret: CLIENT_SECRET });
    const cliReceiver = await h.receiver();
    const env = h.env(cliTenant, cliReceiver, { ADMIN_TOKEN, PAPERTRAIL_TOKEN, ...PII, ...SLACK });
    const ok = await h.run(env);
    const wrongSecret = await h.run({ ...env, AUTH0_CLIENT_SECRET: WRONG_SECRET });
    const down = await h.receiver();
    await down.stop();
    cliTenant.append(10);
    const sinkDown = await h.run({ ...env, PAPERTRAIL_PORT: String(down.port) });
    cliTenant.setFault('forbidden');
    const forbidden = await h.run(env);
    cliTenant.setFault(null);
    const badConfig = await h.run({ ...env, BATCH_SIZE: '0' });
    const badToken = await h.run({ ...env, PAPERTRAIL_TOKEN: BAD_PAPERTRAIL_TOKEN });
    const badPiiKey = await h.run({ ...env, PII_HASH_KEY: SHORT_PII_HASH_KEY });
    const finalCli = await h.run(env);
    check('CLI exit codes', [ok, wrongSecret, sinkDown, forbidden, badConfig, badToken, badPiiKey, finalCli].map((r) => r.code), [0, 1, 1, 1, 2, 2, 2, 0]);
    check('CLI wrong secret refused', wrongSecret.report?.['error'], expect.objectContaining({ code: 'AUTH0_UNAUTHORIZED' }));
    exhibits.push(
      ...ofCli('CLI ok', ok), ...ofCli('CLI wrong secret', wrongSecret), ...ofCli('CLI receiver down', sinkDown),
      ...ofCli('CLI 403', forbidden), ...ofCli('CLI bad config', badConfig), ...ofCli('CLI bad token', badToken), ...ofCli('CLI bad PII key', badPiiKey), ...ofCli('CLI final', finalCli),
      { where: 'CLI state database', text: storedText(env.STORAGE_FILE) },
    );

    // --- the service
    const serveTenant = await h.tenant({ count: EVENTS, clientSecret: CLIENT_SECRET });
    const serveReceiver = await h.receiver();
    const serveEnv = h.env(serveTenant, serveReceiver, { ADMIN_TOKEN, PAPERTRAIL_TOKEN, METRICS_TOKEN, SCHEDULE: '0 0 1 1 *', ...PII, ...SLACK });
    const service = await h.serve(serveEnv);
    const manual = await service.call('POST', '/run', { body: {}, token: ADMIN_TOKEN });
    const answers: Array<[string, HttpAnswer]> = [
      ['serve manual run', manual],
      ['serve cron run', await service.call('POST', '/', { body: CRON_RECORD })],
      ['serve run without token', await service.call('POST', '/run', { body: {} })],
      ['serve run with wrong token', await service.call('POST', '/run', { body: {}, token: WRONG_SECRET })],
      ['serve health', await service.call('GET', '/health')],
      ['serve history', await service.call('GET', '/runs', { token: ADMIN_TOKEN })],
      ['serve history without token', await service.call('GET', '/runs')],
      ['serve metrics', await service.call('GET', '/metrics', { token: METRICS_TOKEN })],
      ['serve metrics without token', await service.call('GET', '/metrics')],
    ];
    serveTenant.setFault('forbidden');
    const serveFailed = await service.call('POST', '/run', { body: {}, token: ADMIN_TOKEN });
    answers.push(['serve failed run', serveFailed], ['serve history after failure', await service.call('GET', '/runs', { token: ADMIN_TOKEN })]);
    const serveExit = await service.stop();
    check('serve answers', [manual.status, serveFailed.status, serveExit.code, answers.find(([n]) => n === 'serve metrics')?.[1].status], [200, 502, 0, 200]);
    exhibits.push(...answers.map(([name, a]) => ofAnswer(name, a)), ...ofCli('serve', serveExit), { where: 'serve state database', text: storedText(serveEnv.STORAGE_FILE) });

    // --- the service with its state in PostgreSQL and a log stream, and a CLI whose STATE_URL password is refused
    const postgres = await startPostgres({ password: DB_PASSWORD });
    h.defer(() => postgres.stop());
    const stateUrl = await postgres.createDatabase();
    check('STATE_URL carries the distinctive password', stateUrl.includes(DB_PASSWORD), true);
    const pgTenant = await h.tenant({ count: EVENTS, clientSecret: CLIENT_SECRET });
    const pgReceiver = await h.receiver();
    const pgEnv = h.env(pgTenant, pgReceiver, { ADMIN_TOKEN, PAPERTRAIL_TOKEN, METRICS_TOKEN, LOG_STREAM_TOKEN, STATE_URL: stateUrl, SCHEDULE: '0 0 1 1 *', ...PII, ...SLACK });
    const pgService = await h.serve(pgEnv);
    const streamed = await streamEvents(eventsOf(pgTenant).slice(0, 10), { url: `${pgService.url}/log-stream`, authorization: `Bearer ${LOG_STREAM_TOKEN}`, seed: 31 });
    const pgAnswers: Array<[string, HttpAnswer]> = [
      ['serve (PostgreSQL) manual run', await pgService.call('POST', '/run', { body: {}, token: ADMIN_TOKEN })],
      ['serve log stream delivery', await httpCall(`${pgService.url}/log-stream`, 'POST', { body: eventsOf(pgTenant).slice(10, 12).map(toStreamRecord), token: LOG_STREAM_TOKEN })],
      ['serve log stream with wrong token', await httpCall(`${pgService.url}/log-stream`, 'POST', { body: [], token: WRONG_STREAM_TOKEN })],
      ['serve log stream, body not JSON', await httpCall(`${pgService.url}/log-stream`, 'POST', { body: 'not json', token: LOG_STREAM_TOKEN })],
      ['serve (PostgreSQL) history', await pgService.call('GET', '/runs', { token: ADMIN_TOKEN })],
      ['serve (PostgreSQL) health', await pgService.call('GET', '/health')],
      ['serve (PostgreSQL) metrics', await pgService.call('GET', '/metrics', { token: METRICS_TOKEN })],
    ];
    const pgExit = await pgService.stop();
    const refusedDb = await h.run({ ...pgEnv, STATE_URL: stateUrl.replace(DB_PASSWORD, WRONG_DB_PASSWORD) });
    const unreachableDb = await h.run({ ...pgEnv, STATE_URL: `postgres://exporter:${DB_PASSWORD}@127.0.0.1:1/state` });
    check('log stream and PostgreSQL paths', [streamed.byStatus, pgAnswers.slice(0, 4).map(([, a]) => a.status), pgExit.code, refusedDb.code, unreachableDb.code], [{ 200: streamed.requests }, [200, 200, 401, 400], 0, 1, 1]);
    exhibits.push(
      ...pgAnswers.map(([name, a]) => ofAnswer(name, a)),
      ...ofCli('serve (PostgreSQL)', pgExit), ...ofCli('CLI refused by PostgreSQL', refusedDb), ...ofCli('CLI PostgreSQL unreachable', unreachableDb),
      { where: 'PostgreSQL state', text: await postgresText(stateUrl) },
    );

    // --- the extension
    const wtTenant = await h.tenant({ count: EVENTS, clientSecret: CLIENT_SECRET });
    const wtReceiver = await h.receiver();
    const { NODE_EXTRA_CA_CERTS: _ca, STORAGE_FILE: _file, ...secrets } = h.env(wtTenant, wtReceiver, { ADMIN_TOKEN, PAPERTRAIL_TOKEN, ...PII, ...SLACK });
    const host = await h.webtask(secrets);
    const cron = await httpCall(`${host.url}/`, 'POST', { body: CRON_RECORD });
    const wtAnswers: Array<[string, HttpAnswer]> = [
      ['webtask cron run', cron],
      ['webtask manual run', await httpCall(`${host.url}/run`, 'POST', { body: {}, token: ADMIN_TOKEN })],
      ['webtask history', await httpCall(`${host.url}/runs`, 'GET', { token: ADMIN_TOKEN })],
    ];
    wtTenant.setFault('forbidden');
    const wtFailed = await httpCall(`${host.url}/run`, 'POST', { body: {}, token: ADMIN_TOKEN });
    wtAnswers.push(['webtask failed run', wtFailed], ['webtask history after failure', await httpCall(`${host.url}/runs`, 'GET', { token: ADMIN_TOKEN })]);
    const badHost = await h.webtask({ ...secrets, BATCH_SIZE: '0', PAPERTRAIL_TOKEN: BAD_PAPERTRAIL_TOKEN });
    const wtBadConfig = await httpCall(`${badHost.url}/`, 'POST', { body: CRON_RECORD });
    const wtBadConfigAdmin = await httpCall(`${badHost.url}/run`, 'POST', { body: {}, token: ADMIN_TOKEN });
    wtAnswers.push(['webtask bad config', wtBadConfig], ['webtask bad config, admin', wtBadConfigAdmin]);
    check('webtask answers', [cron.status, wtFailed.status, wtBadConfig.status, wtBadConfigAdmin.status], [200, 502, 400, 400]);
    exhibits.push(
      ...wtAnswers.map(([name, a]) => ofAnswer(name, a)),
      { where: 'webtask storage', text: readFileSync(host.storageFile, 'utf8') },
      { where: 'webtask logs', text: host.output() },
      { where: 'webtask logs (bad config)', text: badHost.output() },
    );

    check('alerts delivered to the stand-in', slack.bodies.length > 0, true);
    exhibits.push(...slack.raw.map((text, i) => ({ where: `Slack alert ${i + 1}`, text })));

    const deliveries = [await withDeliveryOf(cliTenant, cliReceiver), await withDeliveryOf(serveTenant, serveReceiver), await withDeliveryOf(pgTenant, pgReceiver), await withDeliveryOf(wtTenant, wtReceiver)];
    const found = leaks(exhibits);
    const sum = (key: 'expected' | 'delivered' | 'missing' | 'duplicates'): number => deliveries.reduce((n, d) => n + d[key], 0);
    recordFigures({
      scenario: 'secrets scan: CLI, serve, webtask; success and failure',
      rank: RANK.secrets,
      expected: sum('expected'),
      delivered: sum('delivered'),
      missing: sum('missing'),
      duplicates: sum('duplicates'),
      runs: 10 + readState(serveEnv.STORAGE_FILE).runs.length + (tryReadState(host.storageFile)?.runs.length ?? 0),
      wallMs: elapsed(),
      notes: `${exhibits.length} outputs scanned (${exhibits.reduce((n, e) => n + e.text.length, 0).toLocaleString('en-US')} chars), ${found.length} leaks`,
    });

    // The runs really succeeded and failed as intended, so every path was scanned.
    for (const [what, actual, expected] of expectations) expect({ what, actual }).toEqual({ what, actual: expected });
    expect(found).toEqual([]);
    expect(sum('missing')).toBe(0);
  }, 120_000);
});

/** An SQLite state database as text, with its write-ahead log if one is left: a secret would show in either. */
function storedText(file: string): string {
  return [file, `${file}-wal`].filter((f) => existsSync(f)).map((f) => readFileSync(f, 'latin1')).join('\n');
}

/** Every table of a PostgreSQL state database as text. */
async function postgresText(url: string): Promise<string> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const tables = (await client.query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).rows.map((r) => r.tablename);
    const dumps = await Promise.all(tables.map(async (t) => JSON.stringify((await client.query(`SELECT * FROM "${t}"`)).rows)));
    return dumps.join('\n');
  } finally {
    await client.end();
  }
}
