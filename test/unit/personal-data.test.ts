/**
 * PII_FIELDS / PII_METHOD / OMIT_FIELDS / MESSAGE_FORMAT on single events.
 * Expected masks are literal; expected pseudonyms are computed here with
 * node:crypto from the documented recipe (first 16 hex digits of
 * HMAC-SHA-256 keyed with PII_HASH_KEY over the value's UTF-8 bytes).
 */
import { createHmac } from 'node:crypto';
import { loadConfig, secretValues } from '../../src/config';
import { ConfigError } from '../../src/errors';
import { formatLog, type MessageSettings } from '../../src/stages/format-log';
import { protectPersonalData, type PiiField } from '../../src/stages/personal-data';
import type { Auth0Log } from '../../src/auth0/auth0-log';

/** README: a frame never exceeds 100,000 bytes. */
const README_MAX_FRAME_BYTES = 100_000;

const KEY = 'k3y-for-tests-0123456789abcdef';
const recipe = (value: string, key = KEY): string => createHmac('sha256', Buffer.from(key, 'utf8')).update(Buffer.from(value, 'utf8')).digest('hex').slice(0, 16);
const hashing = (...fields: PiiField[]) => protectPersonalData({ fields: new Set(fields), method: 'hash', key: KEY });
const masking = (...fields: PiiField[]) => protectPersonalData({ fields: new Set(fields), method: 'mask', key: null });

const sapi: Record<string, unknown> = {
  log_id: '90020250101000000000000000000000000000000000000000000001',
  date: '2025-01-01T00:00:00.000Z',
  type: 'sapi',
  description: 'Create a User',
  ip: '203.0.113.7',
  user_agent: 'Chrome 126.0.0 / Mac OS X 10.15.7',
  user_id: 'google-oauth2|100000000000000000001',
  details: {
    request: {
      ip: '203.0.113.7',
      userAgent: 'Chrome 126.0.0 / Mac OS X 10.15.7',
      auth: { user: { user_id: 'google-oauth2|100000000000000000001', name: 'Tenant Admin', email: 'admin@example.com' } },
      body: { email: 'new.user@example.org', given_name: 'Ana', family_name: 'Silva', phone_number: '+15550100', address: { street: '1 Main St', city: 'Lagos' } },
    },
  },
};

describe('PII_METHOD=hash', () => {
  it('replaces each covered value by the first 16 hex digits of HMAC-SHA-256 keyed with PII_HASH_KEY', () => {
    const out = hashing('email', 'ip', 'user_agent', 'first_name', 'last_name', 'phone', 'address')(sapi) as Record<string, unknown> & { details: { request: Record<string, Record<string, unknown>> } };
    expect(out['ip']).toBe(recipe('203.0.113.7'));
    expect(out['user_agent']).toBe(recipe('Chrome 126.0.0 / Mac OS X 10.15.7'));
    expect(out.details.request['ip']).toBe(recipe('203.0.113.7'));
    expect(out.details.request['userAgent']).toBe(recipe('Chrome 126.0.0 / Mac OS X 10.15.7'));
    expect(out.details.request['auth']).toEqual({ user: { user_id: 'google-oauth2|100000000000000000001', name: recipe('Tenant Admin'), email: recipe('admin@example.com') } });
    expect(out.details.request['body']).toEqual({
      email: recipe('new.user@example.org'),
      given_name: recipe('Ana'),
      family_name: recipe('Silva'),
      phone_number: recipe('+15550100'),
      address: { street: recipe('1 Main St'), city: recipe('Lagos') },
    });
    // Never changed: the event's identity, type and date.
    expect([out['log_id'], out['type'], out['date']]).toEqual([sapi['log_id'], sapi['type'], sapi['date']]);
  });

  it('leaves the event it was given unchanged, and fields not listed as they are', () => {
    const before = JSON.stringify(sapi);
    const out = hashing('ip')(sapi);
    expect(JSON.stringify(sapi)).toBe(before);
    expect(out['user_agent']).toBe(sapi['user_agent']);
    expect((out['details'] as { request: { auth: unknown } }).request.auth).toBe((sapi['details'] as { request: { auth: unknown } }).request.auth);
  });

  it('gives the same value the same pseudonym in every event and every field, and different values different ones', () => {
    const protect = hashing('email', 'username');
    const a = protect({ log_id: '1', user_name: 'jane@example.com', details: { email: 'jane@example.com' } });
    const b = protect({ log_id: '2', user_name: 'jane@example.com' });
    const c = protect({ log_id: '3', user_name: 'john@example.com' });
    expect(a['user_name']).toBe(recipe('jane@example.com'));
    expect((a['details'] as { email: string }).email).toBe(recipe('jane@example.com'));
    expect(b['user_name']).toBe(a['user_name']);
    expect(c['user_name']).toBe(recipe('john@example.com'));
    expect(c['user_name']).not.toBe(a['user_name']);
    // Another key, another pseudonym: it cannot be recomputed without the key.
    expect(protectPersonalData({ fields: new Set(['username']), method: 'hash', key: 'another-key-0123456789' })({ user_name: 'jane@example.com' })['user_name']).toBe(recipe('jane@example.com', 'another-key-0123456789'));
  });

  it('hashes a huge value too, the same way every time (such values are not kept in the cache)', () => {
    const huge = `${'x'.repeat(100_000)}@example.com`;
    const protect = hashing('username');
    expect(protect({ user_name: huge })['user_name']).toBe(recipe(huge));
    expect(protect({ user_name: huge })['user_name']).toBe(recipe(huge));
  });

  it('replaces an email address embedded in another text, and a covered value wherever else it appears in the event', () => {
    const out = hashing('email', 'username')({
      log_id: '1',
      user_name: 'ana.silva12@acme.example',
      user_id: 'samlp|acme-corp-saml|ana.silva12@acme.example',
      description: 'Sent to bo.novak@example.com.',
      details: { note: 'user ana.silva12@acme.example asked' },
    });
    expect(out).toEqual({
      log_id: '1',
      user_name: recipe('ana.silva12@acme.example'),
      user_id: `samlp|acme-corp-saml|${recipe('ana.silva12@acme.example')}`,
      description: `Sent to ${recipe('bo.novak@example.com')}.`,
      details: { note: `user ${recipe('ana.silva12@acme.example')} asked` },
    });
  });

  it('covers "to" as an email or a phone number by its shape', () => {
    expect(hashing('phone')({ details: { to: '+15550100' } })['details']).toEqual({ to: recipe('+15550100') });
    expect(hashing('phone')({ details: { to: 'a@b.example' } })['details']).toEqual({ to: 'a@b.example' });
    expect(hashing('email')({ details: { to: 'a@b.example' } })['details']).toEqual({ to: recipe('a@b.example') });
  });

  it('treats a field named "__proto__" as a field, covered inside like any other', () => {
    const event = JSON.parse('{"log_id":"1","__proto__":{"email":"jane@example.com"},"user_name":"jane@example.com"}') as Record<string, unknown>;
    const out = hashing('email', 'username')(event);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(JSON.stringify(out)).toBe(`{"log_id":"1","__proto__":{"email":"${recipe('jane@example.com')}"},"user_name":"${recipe('jane@example.com')}"}`);
  });

  it('passes values Auth0 already masked (a log stream with pii_config) untouched', () => {
    const out = hashing('email', 'username')({ log_id: '1', user_name: 'j*****@e******.com', details: { email: '**********' } });
    expect(out).toEqual({ log_id: '1', user_name: 'j*****@e******.com', details: { email: '**********' } });
  });
});

describe('PII_METHOD=mask', () => {
  it.each([
    ['email', 'email', 'jane.doe@example.com', 'j***@e***.com'],
    ['email', 'email', 'x@mail.example.co.uk', 'x***@m***.uk'],
    ['username', 'user_name', 'jane.doe@example.com', 'j***@e***.com'],
    ['username', 'user_name', 'janedoe', 'j***'],
    ['ip', 'ip', '203.0.113.7', '203.***.***.***'],
    ['ip', 'ip', '2001:db8::1f', '2001:***'],
    ['user_agent', 'user_agent', 'Chrome 126.0.0 / Mac OS X', 'C***'],
    ['first_name', 'given_name', 'Ana', 'A***'],
    ['phone', 'phone_number', '+15550100', '+***'],
  ] as const)('%s: %s %j → %j', (field, property, value, masked) => {
    expect(masking(field)({ log_id: '1', details: { [property]: value } })['details']).toEqual({ [property]: masked });
    expect(masking(field)({ log_id: '1', [property]: value })[property]).toBe(masked);
  });

  it('is idempotent: a masked value masked again is unchanged', () => {
    const once = masking('email', 'ip')({ email: 'jane@example.com', ip: '198.51.100.4' });
    expect(masking('email', 'ip')(once)).toEqual(once);
  });

  it('replaces a structure nested too deeply to search rather than let it through', () => {
    let deep: unknown = 'jane@example.com';
    for (let i = 0; i < 5000; i++) deep = [deep];
    const out = masking('email')({ log_id: '1', details: { deep } });
    expect(JSON.stringify(out)).not.toContain('jane@example.com');
  });
});

const settings = (over: Partial<MessageSettings>): MessageSettings => ({ format: 'json', omit: [], pii: null, ...over });
const head = { system: 'auth0-logs', program: 'auth0' };
const failed: Auth0Log = {
  log_id: '90020250101000000000000000000000000000000000000000000002',
  date: '2025-01-01T00:00:01.000Z',
  type: 'fp',
  description: 'Wrong email or password.',
  client_id: 'Xq7Lm2Pz9KdW4tRb8NcV1yHs6GfJ3aQe',
  client_name: 'Storefront (SPA)',
  ip: '203.0.113.7',
  user_name: 'jane@example.com',
  details: { error: { message: 'Wrong email or password.' } },
  location_info: { city_name: 'Lagos' },
};

describe('formatLog with message settings', () => {
  it('MESSAGE_FORMAT=summary: a readable line, then the JSON (after the first "{")', () => {
    const line = formatLog(failed, { ...head, message: settings({ format: 'summary', pii: { fields: new Set(['username', 'ip']), method: 'mask', key: null } }) }).line;
    const msg = line.slice(line.indexOf(' - fp - ') + 8);
    expect(msg.slice(0, msg.indexOf('{'))).toBe('Failed Login (Incorrect Password) | failed | user j***@e***.com | ip 203.***.***.*** | client Storefront (SPA) | Wrong email or password. ');
    expect(JSON.parse(msg.slice(msg.indexOf('{')))).toMatchObject({ user_name: 'j***@e***.com', ip: '203.***.***.***' });
  });

  it('the summary holds no line break, control character or "{" from a hostile event', () => {
    const line = formatLog({ log_id: '1', type: 'zz_new', description: 'a\nb{c\u2028d\u0000', user_name: '{x}\r\n' }, { ...head, message: settings({ format: 'summary' }) }).line;
    expect(line).not.toMatch(/[\r\n\0\u2028]/);
    const msg = line.slice(line.indexOf('{'));
    expect(JSON.parse(msg)).toEqual({ log_id: '1', type: 'zz_new', description: 'a\nb{c\u2028d\u0000', user_name: '{x}\r\n' });
    expect(line.slice(0, line.indexOf('{'))).toContain('Event zz_new | notice | user (x} | a b(c d');
  });

  it('OMIT_FIELDS drops the paths, through lists too, and keeps the rest in order', () => {
    const line = formatLog({ ...failed, details: { error: { message: 'm', code: 1 }, prompts: [{ name: 'login', elapsedTime: 5 }, { name: 'mfa', elapsedTime: 6 }] } }, { ...head, message: settings({ omit: [['location_info'], ['details', 'error', 'code'], ['details', 'prompts', 'elapsedTime'], ['not', 'there']] }) }).line;
    expect(line.slice(line.indexOf('{'))).toBe('{"log_id":"90020250101000000000000000000000000000000000000000000002","date":"2025-01-01T00:00:01.000Z","type":"fp","description":"Wrong email or password.","client_id":"Xq7Lm2Pz9KdW4tRb8NcV1yHs6GfJ3aQe","client_name":"Storefront (SPA)","ip":"203.0.113.7","user_name":"jane@example.com","details":{"error":{"message":"m"},"prompts":[{"name":"login"},{"name":"mfa"}]}}');
  });

  it('keeps a summarised, hashed oversized event within the frame limit, cut down with the pseudonym', () => {
    const huge = { ...failed, details: { blob: 'x'.repeat(200_000) } };
    const formatted = formatLog(huge, { ...head, message: settings({ format: 'summary', pii: { fields: new Set(['username']), method: 'hash', key: KEY } }) });
    expect(formatted.truncated).toBe(true);
    expect(Buffer.byteLength(formatted.line) + 1).toBeLessThanOrEqual(README_MAX_FRAME_BYTES);
    expect(formatted.line).not.toContain('jane@example.com');
    expect(JSON.parse(formatted.line.slice(formatted.line.indexOf('{')))).toMatchObject({ user_name: recipe('jane@example.com') });
  });
});

describe('settings', () => {
  const minimal = { AUTH0_DOMAIN: 't.auth0.com', AUTH0_CLIENT_ID: 'id', AUTH0_CLIENT_SECRET: 'secret-value', PAPERTRAIL_HOST: 'logs.example.com', PAPERTRAIL_PORT: '1' };
  const problemsOf = (env: Record<string, string>): string[] => {
    try {
      loadConfig({ ...minimal, ...env });
      return [];
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      return error.problems.map((p) => `${p.setting}: ${p.problem}`);
    }
  };

  it('lists a bad field name, a missing hash key, a bad method, a protected omit path and a bad format together', () => {
    expect(problemsOf({ PII_FIELDS: 'email,mail,ip', PII_METHOD: 'hash', OMIT_FIELDS: 'details.request,type', MESSAGE_FORMAT: 'pretty', PAPERTRAIL_PORT: 'x' })).toEqual([
      'PAPERTRAIL_PORT: "x" is not a port number.',
      'MESSAGE_FORMAT: "pretty" is neither json nor summary.',
      'OMIT_FIELDS: "type" would drop log_id, type, date, which every event keeps (its id, its type and its date).',
      'PII_FIELDS: "mail" is not a field name.',
      'PII_HASH_KEY: is not set, and PII_METHOD=hash needs it.',
    ]);
    expect(problemsOf({ PII_FIELDS: 'email', PII_METHOD: 'sha1' })).toEqual(['PII_METHOD: "sha1" is neither mask nor hash.']);
    expect(problemsOf({ OMIT_FIELDS: 'details..x' })).toEqual(['OMIT_FIELDS: "details..x" is not a dotted path.']);
  });

  it('never repeats the hash key in a problem, and counts it among the secrets', () => {
    const shortKey = 'Short7Key';
    const problems = problemsOf({ PII_FIELDS: 'email', PII_METHOD: 'hash', PII_HASH_KEY: shortKey });
    expect(problems).toEqual(['PII_HASH_KEY: is shorter than 16 characters or contains spaces.']);
    const config = loadConfig({ ...minimal, PII_FIELDS: 'Email, ip', PII_METHOD: 'hash', PII_HASH_KEY: KEY, OMIT_FIELDS: 'location_info, details.request.auth', MESSAGE_FORMAT: 'summary' });
    expect(secretValues(config)).toContain(KEY);
    expect(secretValues(loadConfig({ ...minimal, PII_FIELDS: 'email', PII_HASH_KEY: KEY }))).toContain(KEY);
    expect(config.papertrail.message).toEqual({ format: 'summary', omit: [['location_info'], ['details', 'request', 'auth']], pii: { fields: new Set(['email', 'ip']), method: 'hash', key: KEY } });
  });

  it('defaults to the event as JSON with nothing masked or omitted', () => {
    expect(loadConfig(minimal).papertrail.message).toEqual({ format: 'json', omit: [], pii: null });
  });
});
