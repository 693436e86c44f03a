import { loadConfig, secretValues } from '../../src/config';
import { ConfigError } from '../../src/errors';
import { SETTINGS } from '../../src/settings';

const valid = {
  AUTH0_DOMAIN: 'tenant.eu.auth0.com',
  AUTH0_CLIENT_ID: 'client-id',
  AUTH0_CLIENT_SECRET: 'client-secret-value',
  PAPERTRAIL_HOST: 'logs5.papertrailapp.com',
  PAPERTRAIL_PORT: '12345',
};

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => p.setting);
    throw error;
  }
  return [];
}

describe('loadConfig', () => {
  it('applies the documented defaults to a minimal valid environment', () => {
    const config = loadConfig(valid);
    expect(config.batchSize).toBe(100);
    expect(config.papertrail).toEqual({ host: 'logs5.papertrailapp.com', port: 12345, system: 'auth0-logs', program: 'auth0', token: null, message: { format: 'json', omit: [], pii: null } });
    expect(config.filter).toEqual({ minLevel: null, types: null });
    expect(config.startFrom).toBeNull();
    expect(config.storageFile).toBe('./data/state.db');
    expect(config.maxRunMs).toBe(900_000);
    expect(loadConfig(valid, 'webtask').maxRunMs).toBe(20_000);
  });

  it('takes STATE_URL as a PostgreSQL URL whose password is a secret, and refuses anything else without repeating it', () => {
    const config = loadConfig({ ...valid, STATE_URL: 'postgres://exporter:p%40ss-word-123@db.internal:5432/logs' });
    expect(config.stateUrl).toBe('postgres://exporter:p%40ss-word-123@db.internal:5432/logs');
    expect(secretValues(config)).toEqual(expect.arrayContaining(['p%40ss-word-123', 'p@ss-word-123']));
    expect(loadConfig(valid).stateUrl).toBeNull();
    let caught: unknown;
    try {
      loadConfig({ ...valid, STATE_URL: 'mysql://root:hunter2-secret@db/x' });
    } catch (error) {
      caught = error;
    }
    expect((caught as Error).message).toContain('STATE_URL');
    expect((caught as Error).message).not.toContain('hunter2-secret');
  });

  it('looks for a JSON state file of an earlier version at STORAGE_FILE, or at the old default when it is unset', () => {
    expect(loadConfig(valid).legacyStateFile).toBe('./data/state.json');
    expect(loadConfig({ ...valid, STORAGE_FILE: '/var/lib/a0pt/state.json' })).toMatchObject({ storageFile: '/var/lib/a0pt/state.json', legacyStateFile: '/var/lib/a0pt/state.json' });
  });

  it('reports every problem at once, each naming its setting and a fix', () => {
    let caught: unknown;
    try {
      loadConfig({ PAPERTRAIL_PORT: '70000', BATCH_SIZE: '101', LOG_LEVEL: 'loud', PAPERTRAIL_SYSTEM: 'has space' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const problems = (caught as ConfigError).problems;
    expect(problems.map((p) => p.setting).sort()).toEqual(
      ['AUTH0_CLIENT_ID', 'AUTH0_CLIENT_SECRET', 'AUTH0_DOMAIN', 'BATCH_SIZE', 'LOG_LEVEL', 'PAPERTRAIL_HOST', 'PAPERTRAIL_PORT', 'PAPERTRAIL_SYSTEM'].sort(),
    );
    for (const p of problems) expect(p.fix.length).toBeGreaterThan(10);
    expect((caught as ConfigError).message).toContain('To fix:');
  });

  it.each([
    ['tenant.auth0.com', true],
    ['127.0.0.1:8443', true],
    ['tenant.auth0.com:0', false],
    ['https://tenant.auth0.com', false],
    ['tenant auth0.com', false],
    ['tenant.auth0.com/path', false],
  ])('accepts AUTH0_DOMAIN %s: %s', (domain, ok) => {
    expect(problemsOf({ ...valid, AUTH0_DOMAIN: domain }).includes('AUTH0_DOMAIN')).toBe(!ok);
  });

  it.each([
    ['1', true], ['65535', true], ['0', false], ['65536', false], ['12a', false], ['-1', false], ['1.5', false],
  ])('accepts PAPERTRAIL_PORT %s: %s', (port, ok) => {
    expect(problemsOf({ ...valid, PAPERTRAIL_PORT: port }).includes('PAPERTRAIL_PORT')).toBe(!ok);
  });

  it.each([
    ['1', 1], ['100', 100], [' 50 ', 50],
  ])('parses BATCH_SIZE %s as %d', (raw, expected) => {
    expect(loadConfig({ ...valid, BATCH_SIZE: raw }).batchSize).toBe(expected);
  });

  it.each(['0', '101', '1000', 'ten', '10.5', '1e2'])('rejects BATCH_SIZE %s', (raw) => {
    expect(problemsOf({ ...valid, BATCH_SIZE: raw })).toEqual(['BATCH_SIZE']);
  });

  it.each([
    ['', 10], ['1', 1], ['10', 10], [' 4 ', 4],
  ])('parses PAGES_PER_SHIPMENT "%s" as %d (up to 10 pages unless set)', (raw, expected) => {
    expect(loadConfig({ ...valid, PAGES_PER_SHIPMENT: raw }).pagesPerShipment).toBe(expected);
  });

  it.each(['0', '11', '100', 'two', '2.5'])('rejects PAGES_PER_SHIPMENT %s', (raw) => {
    expect(problemsOf({ ...valid, PAGES_PER_SHIPMENT: raw })).toEqual(['PAGES_PER_SHIPMENT']);
  });

  it.each([
    ['', null], ['-', null], ['0', 0], ['4', 4], ['debug', 0], ['info', 1], ['warning', 2], ['ERROR', 3], ['critical', 4],
  ])('parses LOG_LEVEL %p as %p', (raw, expected) => {
    expect(loadConfig({ ...valid, LOG_LEVEL: raw }).filter.minLevel).toBe(expected);
  });

  it.each(['5', '1,3', 'verbose'])('rejects LOG_LEVEL %s', (raw) => {
    expect(problemsOf({ ...valid, LOG_LEVEL: raw })).toEqual(['LOG_LEVEL']);
  });

  it('parses LOG_TYPES ignoring whitespace and blanks, and warns about codes it does not know', () => {
    const config = loadConfig({ ...valid, LOG_TYPES: ' f, fp ,,s,\n brand_new_code ' });
    expect([...(config.filter.types ?? [])]).toEqual(['f', 'fp', 's', 'brand_new_code']);
    expect(config.warnings.join(' ')).toContain('brand_new_code');
    expect(config.warnings.join(' ')).not.toContain('fp');
  });

  it('treats an empty LOG_TYPES (or the gallery blank "-") as no type filter', () => {
    expect(loadConfig({ ...valid, LOG_TYPES: '' }).filter.types).toBeNull();
    expect(loadConfig({ ...valid, LOG_TYPES: '-' }).filter.types).toBeNull();
  });

  it('rejects LOG_TYPES entries that cannot be type codes', () => {
    expect(problemsOf({ ...valid, LOG_TYPES: 'f,type:f OR s' })).toEqual(['LOG_TYPES']);
  });

  it('checks PAPERTRAIL_SYSTEM against syslog HOSTNAME rules', () => {
    expect(problemsOf({ ...valid, PAPERTRAIL_SYSTEM: 'a'.repeat(120) })).toEqual([]);
    expect(problemsOf({ ...valid, PAPERTRAIL_SYSTEM: 'a'.repeat(121) })).toEqual(['PAPERTRAIL_SYSTEM']);
    expect(problemsOf({ ...valid, PAPERTRAIL_SYSTEM: 'my system' })).toEqual(['PAPERTRAIL_SYSTEM']);
    expect(problemsOf({ ...valid, PAPERTRAIL_SYSTEM: 'système' })).toEqual(['PAPERTRAIL_SYSTEM']);
  });

  it('rejects a PAPERTRAIL_HOST with a scheme or a port', () => {
    expect(problemsOf({ ...valid, PAPERTRAIL_HOST: 'tls://logs5.papertrailapp.com' })).toEqual(['PAPERTRAIL_HOST']);
    expect(problemsOf({ ...valid, PAPERTRAIL_HOST: 'logs5.papertrailapp.com:12345' })).toEqual(['PAPERTRAIL_HOST']);
  });

  it('accepts a log id as START_FROM and rejects anything else', () => {
    expect(loadConfig({ ...valid, START_FROM: '90020261123120000000000000000000000000000000000000000001' }).startFrom).toMatch(/^900/);
    expect(problemsOf({ ...valid, START_FROM: '9002026 OR 1' })).toEqual(['START_FROM']);
  });

  it('bounds MAX_RUN_SECONDS', () => {
    expect(loadConfig({ ...valid, MAX_RUN_SECONDS: '30' }).maxRunMs).toBe(30_000);
    expect(problemsOf({ ...valid, MAX_RUN_SECONDS: '1' })).toEqual(['MAX_RUN_SECONDS']);
    expect(problemsOf({ ...valid, MAX_RUN_SECONDS: 'soon' })).toEqual(['MAX_RUN_SECONDS']);
  });

  it('never puts the client secret in an error message', () => {
    expect.assertions(3);
    let message = '';
    try {
      loadConfig({ ...valid, PAPERTRAIL_PORT: 'x' });
    } catch (error) {
      message = (error as Error).message;
    }
    // The refusal happened and names the bad setting, so the next check reads a real message.
    expect(message).toContain('PAPERTRAIL_PORT');
    expect(message.length).toBeGreaterThan(0);
    expect(message).not.toContain(valid.AUTH0_CLIENT_SECRET);
  });

  describe('PAPERTRAIL_TOKEN', () => {
    const collector = { ...valid, PAPERTRAIL_HOST: 'syslog.collector.na-01.cloud.solarwinds.com', PAPERTRAIL_PORT: '6514' };
    const token = '012345-ABCDEFGHIJ_klmnopqrst';

    it('takes a token destination\'s token, longer than 32 characters with its @41058 as Papertrail\'s are', () => {
      expect(loadConfig({ ...collector, PAPERTRAIL_TOKEN: token }).papertrail).toMatchObject({ host: collector.PAPERTRAIL_HOST, port: 6514, token });
      const long = 'A'.repeat(200);
      expect(loadConfig({ ...collector, PAPERTRAIL_TOKEN: ` ${long} ` }).papertrail.token).toBe(long);
    });

    it.each([
      ['a space', 'abc def-0123456789'],
      ['an equals sign', 'abc=def-0123456789'],
      ['a closing bracket', 'abc]def-0123456789'],
      ['a double quote', 'abc"def-0123456789'],
      ['an at sign', 'abc@def-0123456789'],
      ['a non-ASCII character', 'abcdéf-0123456789'],
      ['a control character', 'abc\u0001def-0123456789'],
      ['the element around it', `[${token}@41058]`],
      ['the enterprise number', `${token}@41058`],
      ['too few characters', 'abc'],
      ['too many characters', 'A'.repeat(257)],
    ])('rejects a token with %s, without echoing it', (_, value) => {
      let caught: unknown;
      try {
        loadConfig({ ...collector, PAPERTRAIL_TOKEN: value });
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(ConfigError);
      const error = caught as ConfigError;
      expect(error.problems.map((p) => p.setting)).toEqual(['PAPERTRAIL_TOKEN']);
      expect(error.message).not.toContain(value.trim());
      expect(JSON.stringify(error.problems)).not.toContain(value.trim());
    });

    it('requires a token for a SolarWinds collector host, which drops messages without one', () => {
      expect(problemsOf(collector)).toEqual(['PAPERTRAIL_TOKEN']);
      expect(problemsOf({ ...valid, PAPERTRAIL_HOST: 'logs.collector.solarwinds.com' })).toEqual(['PAPERTRAIL_TOKEN']);
      expect(problemsOf(valid)).toEqual([]);
    });

    it('counts as a secret, as every setting the registry marks secret does', () => {
      const hook = 'https://hooks.slack.com/services/T0000/B0000/abcdefabcdef0123';
      const piiKey = 'a-pii-hash-key-0123456789';
      const config = loadConfig({ ...collector, PAPERTRAIL_TOKEN: token, ADMIN_TOKEN: 'an-admin-token-0123456789', SLACK_INCOMING_WEBHOOK_URL: hook, PII_FIELDS: 'email', PII_METHOD: 'hash', PII_HASH_KEY: piiKey });
      // The webhook counts twice: the whole URL, and its path (the credential) on its own.
      expect(secretValues(config).sort()).toEqual([collector.AUTH0_CLIENT_SECRET, 'an-admin-token-0123456789', token, piiKey, hook, new URL(hook).pathname].sort());
      // METRICS_TOKEN and LOG_STREAM_TOKEN are the service's: serve adds them to its redactor.
      expect(SETTINGS.filter((s) => s.secret === true).map((s) => s.name).sort()).toEqual(['ADMIN_TOKEN', 'AUTH0_CLIENT_SECRET', 'LOG_STREAM_TOKEN', 'METRICS_TOKEN', 'PAPERTRAIL_TOKEN', 'PII_HASH_KEY', 'SLACK_INCOMING_WEBHOOK_URL', 'STATE_URL']);
    });
  });
});

describe('alert settings', () => {
  const hook = 'https://hooks.slack.com/services/T0000/B0000/abcdefabcdef0123';
  it('default to no alerts, no summaries and a 60-minute lag threshold', () => {
    expect(loadConfig(valid).alerts).toEqual({ webhookUrl: null, sendSuccess: false, lagThresholdMs: 3_600_000 });
  });

  it('accept an https webhook, true/false and whole minutes', () => {
    expect(loadConfig({ ...valid, SLACK_INCOMING_WEBHOOK_URL: hook, SLACK_SEND_SUCCESS: 'TRUE', LAG_ALERT_MINUTES: '15' }).alerts).toEqual({ webhookUrl: hook, sendSuccess: true, lagThresholdMs: 900_000 });
  });

  it('reject a non-https webhook without repeating it, a bad switch and a bad threshold, all at once', () => {
    const plain = 'http://hooks.slack.com/services/T0000/B0000/abcdefabcdef0123';
    let message = '';
    try {
      loadConfig({ ...valid, SLACK_INCOMING_WEBHOOK_URL: plain, SLACK_SEND_SUCCESS: 'yes', LAG_ALERT_MINUTES: '0' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(problemsOf({ ...valid, SLACK_INCOMING_WEBHOOK_URL: plain, SLACK_SEND_SUCCESS: 'yes', LAG_ALERT_MINUTES: '0' })).toEqual(['SLACK_INCOMING_WEBHOOK_URL', 'SLACK_SEND_SUCCESS', 'LAG_ALERT_MINUTES']);
    expect(message).not.toContain('abcdefabcdef0123');
    expect(problemsOf({ ...valid, SLACK_INCOMING_WEBHOOK_URL: 'not a url' })).toEqual(['SLACK_INCOMING_WEBHOOK_URL']);
  });
});
