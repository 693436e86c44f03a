/**
 * The redactor on its own: the last defence for "secrets never appear in any output".
 * Secrets here have the shapes the README's settings table lists: a client secret, an admin
 * token, a Papertrail ingestion token, a log-stream token, a Slack webhook URL, a database
 * password inside STATE_URL and a PII hash key, short and long.
 */
import { createRedactor } from '../../src/runtime/redact';

const MASK = '[redacted]';
const SECRETS = {
  clientSecret: 'b1X9-qWe7_Rt5yUi3oP1aS2dF4gH6jK8lZ0xC9vB7nM5-Qw3Er1Ty8Ui6Op4As2Df0',
  adminToken: 'adm1n-T0ken',
  papertrailToken: '012345-ABCDEFGHIJ_klmnopqrst',
  logStreamToken: 'stream-tok-7f3a9c',
  webhookUrl: 'https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXX',
  dbPassword: 'pg-pa55w0rd',
  piiHashKey: 'pii-hash-key-0123456789abcdef',
};

describe('createRedactor', () => {
  it('masks every secret, however short, wherever it appears in a string', () => {
    const redact = createRedactor(Object.values(SECRETS));
    for (const [name, secret] of Object.entries(SECRETS)) {
      const text = `before ${secret} middle ${secret}after`;
      expect({ name, out: redact(text) }).toEqual({ name, out: `before ${MASK} middle ${MASK}after` });
    }
  });

  it('masks a six-character secret, the shortest it is given', () => {
    expect(createRedactor(['abc123'])('token=abc123;')).toBe(`token=${MASK};`);
  });

  it('walks objects and arrays, and leaves keys, numbers, booleans and null as they are', () => {
    const redact = createRedactor([SECRETS.dbPassword, SECRETS.logStreamToken]);
    const report = {
      status: 'failed',
      count: 3,
      ok: false,
      none: null,
      error: { message: `connect postgres://exporter:${SECRETS.dbPassword}@127.0.0.1:5432/state refused` },
      warnings: [`Authorization: Bearer ${SECRETS.logStreamToken}`, 'plain'],
    };
    expect(redact(report)).toEqual({
      status: 'failed',
      count: 3,
      ok: false,
      none: null,
      error: { message: `connect postgres://exporter:${MASK}@127.0.0.1:5432/state refused` },
      warnings: [`Authorization: Bearer ${MASK}`, 'plain'],
    });
  });

  it('masks the longer of two overlapping secrets whole, leaving no tail of it', () => {
    const short = 'secret-part';
    const long = `${short}-and-more-of-it`;
    expect(createRedactor([short, long])(`x ${long} y ${short} z`)).toBe(`x ${MASK} y ${MASK} z`);
  });

  it('ignores unset secrets and values too short to be secrets, so ordinary words survive', () => {
    const redact = createRedactor([undefined, '', 'ab', SECRETS.adminToken]);
    expect(redact('ab cd adm1n-T0ken')).toBe(`ab cd ${MASK}`);
    expect(createRedactor([undefined, ''])('nothing to hide')).toBe('nothing to hide');
  });
});
